// 生成地图标记图片 src/images/marker-<组>.png（带白边的圆点，颜色按状态分组），只在改样式时运行一次。
// 组与颜色要和 src/utils/labels.js 的 MARKER_GROUPS 一致。
const fs = require('fs')
const path = require('path')
const zlib = require('zlib')

function crc32(buf) {
  let c
  const table = []
  for (let n = 0; n < 256; n++) {
    c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  let crc = 0xffffffff
  for (const b of buf) crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

function png(size, pixel) {
  const rows = []
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4)
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x, y)
      row.writeUInt8(r, 1 + x * 4)
      row.writeUInt8(g, 2 + x * 4)
      row.writeUInt8(b, 3 + x * 4)
      row.writeUInt8(a, 4 + x * 4)
    }
    rows.push(row)
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr.writeUInt8(8, 8) // 位深
  ihdr.writeUInt8(6, 9) // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const SIZE = 64
const c = (SIZE - 1) / 2
const COLORS = {
  new: [179, 38, 30], // 待受理：红
  doing: [11, 79, 168], // 办理中：蓝
  done: [31, 107, 42], // 已办结：绿
  other: [84, 84, 84], // 已关闭、退回、撤回：灰
}
Object.keys(COLORS).forEach((group) => {
  const out = png(SIZE, (x, y) => {
    const d = Math.hypot(x - c, y - c)
    if (d <= c - 10) return COLORS[group].concat([255])
    if (d <= c - 2) return [255, 255, 255, 255]
    if (d <= c) return [0, 0, 0, 120]
    return [0, 0, 0, 0]
  })
  const file = path.join(__dirname, '..', 'src', 'images', `marker-${group}.png`)
  fs.writeFileSync(file, out)
  console.log('wrote', file, out.length, 'bytes')
})
