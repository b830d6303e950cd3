// 生成 UUID v4，用作 Idempotency-Key：一次“提交”意图只生成一次，重试时沿用。
let counter = 0

function randomByte() {
  return Math.floor(Math.random() * 256)
}

function uuid() {
  const bytes = []
  for (let i = 0; i < 16; i++) bytes.push(randomByte())
  // 混入时间和计数，即使随机数质量不高也不会重复
  const stamp = Date.now() + counter++
  for (let i = 0; i < 6; i++) bytes[i] ^= Math.floor(stamp / Math.pow(256, i)) & 0xff
  bytes[6] = (bytes[6] & 0x0f) | 0x40
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = bytes.map((b) => (b < 16 ? '0' : '') + b.toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

module.exports = uuid
