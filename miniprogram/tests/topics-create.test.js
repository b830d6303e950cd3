// 提出议题：题目必填，存为草拟后转到议题页；热点（同类问题反复反映的地方）可一键带入；取不到热点就不显示。
const { createWx, NETWORK_FAIL, lastToast, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const fx = require('./helpers/fixtures')
const config = require('../src/config')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/topics/create')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  const cadre = fx.userWith('cadre')
  wx.__server.on('POST', '/auth/login', { token: 'tok', expires_at: '2999-01-01T00:00:00+08:00', user: cadre })
  wx.__server.on('GET', '/topics/hotspots', { items: [{ category: '路灯损坏', lat: 30.58, lng: 114.27, tickets: [12, 15, 19] }] })
  // TopicOut 有 status 和 body 两个字段，包一层免得假服务器当成 {status, body}
  wx.__server.on('POST', '/topics', (req) => ({ status: 201, body: fx.topic({ id: 30, status: 'draft', status_label: '草拟', title: req.data.title, body: req.data.body }) }))
})

async function open(query = { unit_id: '4' }) {
  const page = render(pageId)
  page.instance.onLoad(query)
  await settle()
  return page
}

function input(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } })
}

test('a title is required; the draft is created and its page opened', async () => {
  const page = await open()
  tap(page, '#submit')
  await settle()
  expect(text(page, '#form-error')).toBe('请写上议题的题目')
  expect(wx.__server.calls('POST', '/topics')).toHaveLength(0)
  input(page, '#title', ' 加装电梯 ')
  input(page, '#body', '老楼没有电梯')
  await settle()
  tap(page, '#submit')
  await settle()
  const calls = wx.__server.calls('POST', '/topics')
  expect(calls.map((c) => c.data)).toEqual([{ unit_id: 4, title: '加装电梯', body: '老楼没有电梯' }])
  expect(calls[0].header['Idempotency-Key']).toBeTruthy()
  expect(wx.redirectTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/topic?id=30' }))
})

test('hot spots are suggested with their reports; one tap fills the form', async () => {
  const page = await open()
  expect(wx.__server.calls('GET', '/topics/hotspots')[0].query).toEqual({ unit_id: '4' })
  expect(text(page, '#hotspot-0')).toContain('路灯损坏：3件')
  tap(page, '#use-hotspot-0')
  await settle()
  expect(page.data.title).toBe('路灯损坏：同一处反复反映（3件）')
  expect(page.data.body).toContain('12号、15号、19号')
  page.querySelectorAll('.ticket-link')[1].dispatchEvent('tap')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/ticket/ticket?id=15' }))
})

test('hot spots refused (a grid worker): no suggestions, the form still works', async () => {
  wx.__server.on('GET', '/topics/hotspots', error(403, 'forbidden', '只有本单位的干部或人大代表可以查看'))
  const page = await open()
  expect(page.querySelector('#hotspots')).toBeUndefined()
  expect(page.querySelector('#title')).toBeDefined()
})

test('a refusal is told in Chinese; after a network failure the same draft goes with the same key', async () => {
  wx.__server.on('POST', '/topics', error(403, 'forbidden', '只有本单位的干部或人大代表可以提出议题'))
  const page = await open()
  input(page, '#title', '加装电梯')
  await settle()
  tap(page, '#submit')
  await settle()
  expect(text(page, '#form-error')).toBe('只有本单位的干部或人大代表可以提出议题')

  let online = false
  wx.__server.on('POST', '/topics', () => (online ? { status: 201, body: fx.topic({ id: 31 }) } : NETWORK_FAIL))
  tap(page, '#submit')
  await settle(10)
  expect(text(page, '#form-error')).toBe('网络不好，请稍后再试')
  online = true
  tap(page, '#submit')
  await settle()
  const keys = wx.__server.calls('POST', '/topics').map((c) => c.header['Idempotency-Key'])
  expect(new Set(keys).size).toBe(1)
  expect(lastToast(wx)).toBe('议题已草拟')
})

test('no community chosen: says so', async () => {
  const page = await open({})
  expect(text(page, '#no-unit')).toContain('先在议题列表里选好社区')
})
