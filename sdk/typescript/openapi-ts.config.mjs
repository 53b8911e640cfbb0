// @hey-api/openapi-ts settings for `make sdk` (scripts/sdk). TB_SDK_OUT generates elsewhere
// (the freshness check in tests/e2e/sdk.test.mjs).
export default {
  input: '../../docs/openapi.yaml',
  output: {
    path: process.env.TB_SDK_OUT || 'src',
    // Node's ES modules resolve only imports with their file extension.
    importFileExtension: '.js',
  },
  plugins: ['@hey-api/client-fetch'],
  logs: { file: false },
};
