// 与服务器的约定（tests/fixtures/openapi.json，服务器的 OpenAPI 副本）：
// 校验器本身会抓错；测试数据都是服务器真会给的样子；小程序调用的接口、用到的枚举服务器都有。
// 假服务器每次收发的核对在 tests/helpers/wx.js，失败由 tests/setup/contract.js 报出。
const fs = require('fs')
const path = require('path')
const openapi = require('./helpers/openapi')
const { createWx, takeContractProblems, error } = require('./helpers/wx')
const fx = require('./helpers/fixtures')
const labels = require('../src/utils/labels')
const config = require('../src/config')
const api = require('../src/utils/api')

const SRC = path.join(__dirname, '..', 'src')
const { validate, schema, checkRequest, checkResponse, findOperation } = openapi

function ok(name, value) {
  expect(validate(schema(name), value)).toEqual([])
}

function bad(name, value, pattern) {
  const problems = validate(schema(name), value)
  expect(problems.length).toBeGreaterThan(0)
  if (pattern) expect(problems.join('\n')).toMatch(pattern)
}

describe('the snapshot', () => {
  test('is the server\'s OpenAPI 3.0 document with the mini-program\'s endpoints', () => {
    const doc = openapi.spec()
    expect(doc.openapi).toMatch(/^3\.0\./)
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/')).length).toBeGreaterThan(20)
    expect(doc.components.schemas.TicketOut).toBeDefined()
    expect(doc.components.schemas.Error).toBeDefined()
  })
})

describe('the validator catches what does not fit', () => {
  test('a wrong type, an unknown field, a null where none is allowed, a value outside the enum', () => {
    ok('TicketOut', fx.ticket())
    bad('TicketOut', fx.ticket({ id: 't1' }), /\$\.id: 应为 integer/)
    bad('TicketOut', Object.assign(fx.ticket(), { supporter_count: 2 }), /没有字段 supporter_count/)
    bad('TicketOut', fx.ticket({ status: null }), /\$\.status: 应为 string/)
    bad('Rate', { rating: 'great' }, /不在/)
  })

  test('nullable fields and anyOf take null; required fields must be there', () => {
    ok('TicketOut', fx.ticket({ assignee: null, rating: null, resolved_at: null, duplicate_of: null }))
    bad('TicketOut', fx.ticket({ reporter: { id: 'x', display: '群众' } }), /reporter\.id: 应为 integer/)
    ok('TicketOut', fx.ticket({ assignee: null }))
    expect(validate({ anyOf: [{ type: 'integer' }, { type: 'string' }] }, true).join('')).toMatch(/anyOf/)
    expect(validate({ anyOf: [{ type: 'integer' }, { type: 'string' }] }, 'a')).toEqual([])
    bad('TicketCreate', { category: 'x', description: '灯', lat: 30, lng: 114, coord: 'bd09' }, /不在/)
    bad('Return', { note: '没写原因' }, /缺少必填字段 reason/)
    bad('Return', { reason: 'duplicate', duplicate_of: null }, /duplicate_of: 应为 integer/)
  })

  test('lengths, ranges and date-times are checked', () => {
    bad('TicketCreate', { category: 'x', description: '灯'.repeat(2001), lat: 30, lng: 114 }, /多于 2000/)
    bad('TicketCreate', { category: 'x', description: '灯', lat: 91, lng: 114 }, /大于 90/)
    bad('Assign', { assignee_id: 3, due_at: '2026-10-09' }, /date-time/)
    ok('Assign', { assignee_id: 3, due_at: '2026-10-09T23:59:00+08:00' })
  })

  test('paths: literal segments win, path parameters must have the right type', () => {
    expect(findOperation('GET', '/tickets/nearby').template).toBe('/api/v1/tickets/nearby')
    expect(findOperation('GET', '/tickets/12').template).toBe('/api/v1/tickets/{ticket_id}')
    expect(findOperation('GET', '/tickets/t1')).toBeNull()
    expect(findOperation('DELETE', '/tickets/12')).toBeNull()
  })

  test('requests: unknown or missing query parameters, bodies of the wrong shape', () => {
    // 小程序原来按“中心点 + 半径”查地图，服务器要的是方框
    const old = checkRequest({ method: 'GET', path: '/tickets/map', query: { lat: '30.58', lng: '114.27', radius: '1000', coord: 'gcj02' } })
    expect(old.problems.join('\n')).toMatch(/不认识查询参数 lat/)
    expect(old.problems.join('\n')).toMatch(/缺少必填的查询参数 min_lat/)
    const box = checkRequest({ method: 'GET', path: '/tickets/map', query: { min_lat: '30.57', min_lng: '114.26', max_lat: '30.59', max_lng: '114.28', coord: 'gcj02' } })
    expect(box.problems).toEqual([])
    expect(checkRequest({ method: 'GET', path: '/tickets', query: { scope: 'everything' } }).problems.join('\n')).toMatch(/不在/)
    expect(checkRequest({ method: 'GET', path: '/tickets', query: { overdue: 'maybe' } }).problems.join('\n')).toMatch(/不是 boolean/)
    expect(checkRequest({ method: 'POST', path: '/tickets/1/assign', data: { assignee_id: 's3' } }).problems.join('\n')).toMatch(/assignee_id: 应为 integer/)
    expect(checkRequest({ method: 'POST', path: '/tickets/1/support', data: { really: true } }).problems.join('\n')).toMatch(/不收请求体/)
    expect(checkRequest({ method: 'POST', path: '/media', upload: 'photo' }).problems.join('\n')).toMatch(/不认识文件字段 photo/)
    expect(checkRequest({ method: 'POST', path: '/media', upload: 'file' }).problems).toEqual([])
  })

  test('responses: by status code, errors in the server\'s envelope', () => {
    const req = { method: 'GET', path: '/tickets/1' }
    expect(checkResponse(req, 200, fx.ticket())).toEqual([])
    expect(checkResponse(req, 200, { items: [fx.ticket()] }).join('\n')).toMatch(/没有字段 items/)
    expect(checkResponse(req, 404, error(404, 'ticket_not_found', '问题不存在').body)).toEqual([])
    expect(checkResponse(req, 404, { code: 404, status: 'Not Found', message: 'not_found', errors: {} }).join('\n')).toMatch(/errors:\{detail\}/)
    expect(checkResponse({ method: 'POST', path: '/media' }, 201, fx.media(1, { width: 1, height: 1 }))).toEqual([])
  })

  test('responses without JSON: 204 has no body, xlsx is not JSON, an undocumented body is taken as it is', () => {
    expect(checkResponse({ method: 'DELETE', path: '/me' }, 204, null)).toEqual([])
    expect(checkResponse({ method: 'DELETE', path: '/me' }, 204, { ok: true }).join('\n')).toMatch(/不给 JSON/)
    expect(checkResponse({ method: 'GET', path: '/bulletins/1.xlsx' }, 200, { rows: [] }).join('\n')).toMatch(/不给 JSON/)
    // 服务器文档里 GET /me/export 的 200 没有 schema（只写了 "OK"），内容由服务器的 privacy/operations.py 决定
    expect(checkResponse({ method: 'GET', path: '/me/export' }, 200, fx.exportData())).toEqual([])
  })
})

describe('the fake server reports what does not fit (so that test fails)', () => {
  beforeEach(() => {
    config.retryDelayMs = 0
  })

  test('a canned response of the wrong shape is recorded', async () => {
    global.wx = createWx()
    wx.__server.on('GET', '/tickets/1', Object.assign(fx.ticket(), { media: [{ id: 1, url: '/media/a.jpg', thumb: '/media/a-t.jpg' }] }))
    await api.get('/tickets/1')
    const problems = takeContractProblems()
    expect(problems.join('\n')).toMatch(/GET \/tickets\/1 → 200\.media\[0\]: 服务器没有字段 thumb/)
    expect(wx.__server.problems).toEqual(problems)
  })

  test('a request to an endpoint the server does not have is recorded', async () => {
    global.wx = createWx()
    wx.__server.on('GET', '/tickets/mine', { items: [] })
    await api.get('/tickets/mine').catch(() => null)
    expect(takeContractProblems().join('\n')).toMatch(/GET \/tickets\/mine: 服务器没有这个接口/)
  })

  test('a request body the server would refuse is recorded', async () => {
    global.wx = createWx()
    wx.__server.on('POST', '/tickets/1/return', fx.ticket())
    await api.post('/tickets/1/return', { reason: 'duplicate', duplicate_of: 't0' })
    expect(takeContractProblems().join('\n')).toMatch(/请求体\.duplicate_of: 应为 integer/)
  })

  test('a well-formed exchange records nothing', async () => {
    global.wx = createWx()
    wx.__server.on('GET', '/tickets/1', fx.ticket())
    await api.get('/tickets/1')
    expect(takeContractProblems()).toEqual([])
  })
})

describe('every fixture is a shape the server really sends', () => {
  test.each([
    ['User', () => fx.USER],
    ['User', () => fx.userWith('grid_worker', 'unit_head')],
    ['Category', () => fx.CATEGORIES[0]],
    ['Media', () => fx.media(1, { width: 10, height: 10 })],
    ['MediaOut', () => fx.media(1)],
    ['TicketOut', () => fx.ticket()],
    ['EventOut', () => fx.event()],
    ['NotificationOut', () => fx.notification()],
    ['StaffMember', () => fx.staffMember(2, '李师傅', 'grid_worker')],
    ['UnitBrief', () => fx.UNIT_BRIEF],
    ['ReportUnitCard', () => fx.unitCard()],
    ['BulletinBrief', () => fx.bulletinBrief()],
    ['BulletinUnit', () => fx.bulletinUnit({ id: 1, code: 'gz-demo', name: '共治示范区', kind: 'district' }, null, 0)],
    ['TemplatesOut', () => ({ templates: fx.TEMPLATES })],
    ['ConsentOut', () => fx.consent(false)],
    ['ConsentOut', () => fx.consent(true)],
  ])('%s', (name, make) => {
    ok(name, make())
  })
})

// —— 小程序源码里调用的接口 ——

function sourceFiles(dir = SRC, out = []) {
  fs.readdirSync(dir, { withFileTypes: true }).forEach((e) => {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) sourceFiles(full, out)
    else if (e.name.endsWith('.js')) out.push(full)
  })
  return out
}

// [{method, path, file}]，路径里的 ${...} 记作 *
function calledEndpoints() {
  const found = []
  sourceFiles().forEach((file) => {
    const code = fs.readFileSync(file, 'utf8')
    const add = (method, p) => found.push({ method, path: p.replace(/\$\{[^}]*\}/g, '*'), file: path.relative(SRC, file) })
    for (const m of code.matchAll(/\bapi\s*\.\s*(get|post)\(\s*(['`])([^'`]*)\2/g)) add(m[1].toUpperCase(), m[3])
    for (const m of code.matchAll(/call\(\{\s*method:\s*'(\w+)',\s*path:\s*'([^']+)'/g)) add(m[1], m[2])
  })
  return found
}

// 客户端路径（* 表示任意一段）能不能对上服务器的某个路径模板
function matches(clientPath, method) {
  const want = clientPath.split('/')
  const doc = openapi.spec()
  return Object.keys(doc.paths).some((template) => {
    if (!doc.paths[template][method.toLowerCase()]) return false
    if (!template.startsWith(openapi.API_PREFIX + '/')) return false
    const have = template.slice(openapi.API_PREFIX.length).split('/')
    if (have.length !== want.length) return false
    return have.every((seg, i) => {
      if (want[i] === '*') return true
      if (/^\{[^}]+\}$/.test(seg)) return findOperation(method, want.slice(0, i + 1).concat(have.slice(i + 1).map(() => '1')).join('/')) !== null
      return seg === want[i]
    })
  })
}

describe('the mini-program only calls what the server has', () => {
  const calls = calledEndpoints()

  test('the source scan finds the calls', () => {
    expect(calls.length).toBeGreaterThan(15)
    expect(calls).toEqual(expect.arrayContaining([expect.objectContaining({ method: 'POST', path: '/auth/login' })]))
    expect(calls).toEqual(expect.arrayContaining([expect.objectContaining({ method: 'GET', path: '/tickets/map' })]))
  })

  test('the scan would notice an endpoint the server lacks', () => {
    expect(matches('/tickets/mine', 'GET')).toBe(false)
    expect(matches('/tickets/*/reopen', 'POST')).toBe(false)
    expect(matches('/tickets/*/support', 'POST')).toBe(true)
  })

  test('every call in src/ is an endpoint in the snapshot', () => {
    const missing = calls.filter((c) => !matches(c.path, c.method)).map((c) => `${c.method} ${c.path}（${c.file}）`)
    expect(missing).toEqual([])
  })

  test('uploads go to the server\'s multipart endpoint', () => {
    expect(checkRequest({ method: 'POST', path: '/media', upload: 'file' }).problems).toEqual([])
  })
})

describe('what the client knows matches the server\'s lists', () => {
  const doc = openapi.spec()
  const schemas = doc.components.schemas
  const ticketActions = Object.keys(doc.paths)
    .map((p) => /^\/api\/v1\/tickets\/\{ticket_id\}\/([a-z_]+)$/.exec(p))
    .filter(Boolean)
    .map((m) => m[1])
    .filter((a) => doc.paths[`/api/v1/tickets/{ticket_id}/${a}`].post)

  test('every ticket action the server has is handled by a page and named on the timeline', () => {
    const ticketJs = fs.readFileSync(path.join(SRC, 'pages/ticket/ticket.js'), 'utf8')
    const staffButtons = Array.from(ticketJs.matchAll(/action: '(\w+)', label:/g)).map((m) => m[1])
    const ownButtons = ['withdraw', 'rate', 'support'] // 反映人、其他居民在详情页上直接点
    expect(ticketActions.length).toBeGreaterThan(8)
    ticketActions.forEach((a) => {
      expect([a, staffButtons.concat(ownButtons).includes(a)]).toEqual([a, true])
      if (a !== 'support') expect([a, labels.ACTION[a]]).toEqual([a, expect.any(String)])
    })
  })

  test('return reasons, ratings and priorities are the server\'s enums', () => {
    const reasons = labels.RETURN_REASONS.concat([labels.NOT_ADOPTED]).map((r) => r.value).sort()
    expect(reasons).toEqual(schemas.Return.properties.reason.enum.slice().sort())
    expect(labels.RATINGS.map((r) => r.value).sort()).toEqual(schemas.Rate.properties.rating.enum.slice().sort())
    expect(labels.PRIORITIES.map((r) => r.value).sort()).toEqual(schemas.Assign.properties.priority.enum.slice().sort())
  })

  test('every ticket status the server filters by has a Chinese name', () => {
    const list = doc.paths['/api/v1/tickets'].get.parameters.find((p) => p.name === 'status')
    expect(Object.keys(labels.STATUS).sort()).toEqual(list.schema.items.enum.slice().sort())
  })
})
