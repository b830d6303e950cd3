module.exports = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/tests/**/*.test.js'],
  // 每个测试后核对假服务器的收发是否符合服务器的 OpenAPI（见 tests/setup/contract.js）
  setupFilesAfterEnv: ['<rootDir>/tests/setup/contract.js'],
  testTimeout: 20000,
}
