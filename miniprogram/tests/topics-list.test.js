// 大家的事大家议：一个单位的议题分三栏（征集中 / 投票中 / 已决定），下拉刷新，失败“再试一次”，首页有入口。
const { createWx, NETWORK_FAIL, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const fx = require('./helpers/fixtures')
const config = require('../src/config')
const topicsUtil = require('../src/utils/topics')

let listId
let indexId
let wx
beforeAll(() => {
  listId = loadPage('pages/topics/list')
  indexId = loadPage('pages/index/index')
})

const COMMUNITIES = [fx.unitBrief(4, '花桥社区', 'community', 2), fx.unitBrief(5, '幸福社区', 'community', 2)]

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  topicsUtil.setUnit(null)
  wx.__server.on('GET', '/units', { items: COMMUNITIES, next_cursor: null })
  wx.__server.on('GET', '/topics', (req) => ({
    items:
      req.query.group === 'voting'
        ? [fx.topic({ id: 8, title: '加装电梯', status: 'deciding', status_label: '居民决策' })]
        : req.query.group === 'decided'
        ? [fx.topic({ id: 6, title: '垃圾分类亭', status: 'decision_published', status_label: '决定已公开', passed: true })]
        : [fx.topic()],
    next_cursor: null,
  }))
})

async function open(query = {}) {
  const page = render(listId)
  page.instance.onLoad(query)
  await settle()
  return page
}

test('the home page has the "大家的事大家议" button, which opens the list', async () => {
  const home = render(indexId)
  home.instance.onLoad({})
  await settle()
  expect(text(home, '#open-topics')).toBe('大家的事大家议')
  tap(home, '#open-topics')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/list' }))
})

test('opens on the first community and the open tab; each tab asks for its group', async () => {
  const page = await open()
  expect(wx.__server.calls('GET', '/units')[0].query).toEqual({ kind: 'community', limit: '100' })
  expect(wx.__server.calls('GET', '/topics')[0].query).toEqual({ unit_id: '4', group: 'open', limit: '20' })
  expect(text(page, '#unit-name')).toBe('花桥社区')
  expect(text(page, '#topic-7')).toContain('3号楼前空地')
  expect(text(page, '#topic-7')).toContain('征求意见')
  expect(page.data.group).toBe('open')

  tap(page, '#group-voting')
  await settle()
  expect(wx.__server.calls('GET', '/topics')[1].query.group).toBe('voting')
  expect(page.data.items.map((t) => t.id)).toEqual([8])
  tap(page, '#group-decided')
  await settle()
  expect(text(page, '#topic-6')).toContain('通过')
  tap(page, '#topic-6')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/topic?id=6' }))
})

test('a staff member sees their own unit first; a link can name another', async () => {
  const cadre = fx.userWith('cadre')
  cadre.posts[0].unit = { id: 5, code: 'x', name: '幸福社区', kind: 'community' }
  wx.__storage.gz_user = cadre
  wx.__server.on('POST', '/auth/login', { token: 'tok', expires_at: '2999-01-01T00:00:00+08:00', user: cadre })
  await open()
  expect(wx.__server.calls('GET', '/topics')[0].query.unit_id).toBe('5')
  // 人大代表在街道：街道排在可选单位的最前
  const deputy = fx.userWith('deputy')
  deputy.posts[0].unit = { id: 2, code: 'gz-demo-hq', name: '花桥街道', kind: 'street' }
  wx.__storage.gz_user = deputy
  wx.__storage.gz_token = ''
  wx.__server.on('POST', '/auth/login', { token: 'tok', expires_at: '2999-01-01T00:00:00+08:00', user: deputy })
  topicsUtil.setUnit(null)
  const street = await open()
  expect(wx.__server.calls('GET', '/topics').pop().query.unit_id).toBe('2')
  expect(street.data.unitNames).toEqual(['花桥街道', '花桥社区', '幸福社区'])
  expect(street.data.unitIndex).toBe(0)
  topicsUtil.setUnit(null)
  const linked = await open({ unit_id: '4', group: 'voting' })
  const last = wx.__server.calls('GET', '/topics').pop()
  expect(last.query).toEqual({ unit_id: '4', group: 'voting', limit: '20' })
  expect(linked.data.group).toBe('voting')
})

test('a cadre also has the 草拟 tab and "提出议题"; a resident has neither', async () => {
  const plain = await open()
  expect(plain.querySelector('#group-draft')).toBeUndefined()
  expect(plain.querySelector('#create')).toBeUndefined()

  const cadre = fx.userWith('cadre')
  wx.__storage.gz_user = cadre
  wx.__server.on('POST', '/auth/login', { token: 'tok', expires_at: '2999-01-01T00:00:00+08:00', user: cadre })
  wx.__storage.gz_token = ''
  const page = await open()
  tap(page, '#group-draft')
  await settle()
  expect(wx.__server.calls('GET', '/topics').pop().query.group).toBe('draft')
  tap(page, '#create')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/create?unit_id=4' }))
})

test('picking another community reloads for it', async () => {
  const page = await open()
  await page.instance.onPickUnit({ detail: { value: '1' } })
  expect(wx.__server.calls('GET', '/topics').pop().query.unit_id).toBe('5')
  expect(topicsUtil.getUnit()).toEqual({ id: 5, name: '幸福社区' })
})

test('links to registering a home and to what I follow', async () => {
  const page = await open()
  tap(page, '#open-home')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/home' }))
  tap(page, '#open-follows')
  await settle()
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/topics/follows' }))
})

test('nothing yet: says so', async () => {
  wx.__server.on('GET', '/topics', { items: [], next_cursor: null })
  const page = await open()
  expect(text(page, '#empty')).toBe('这里还没有议题')
})

test('a failure is told and "再试一次" loads again (units and topics)', async () => {
  let online = false
  wx.__server.on('GET', '/units', () => (online ? { items: COMMUNITIES, next_cursor: null } : NETWORK_FAIL))
  const page = await open()
  await settle(10)
  expect(text(page, '.load-error-text')).toBe('网络不好，请稍后再试')
  online = true
  tap(page, '.retry-btn')
  await settle()
  expect(page.data.items.map((t) => t.id)).toEqual([7])

  wx.__server.on('GET', '/topics', error(500, 'internal_error', '服务器出错了'))
  await page.instance.onPullDownRefresh()
  expect(text(page, '.load-error-text')).toBe('服务器出错了')
  expect(wx.stopPullDownRefresh).toHaveBeenCalled()
})

test('paging: "加载更多" asks for the next cursor', async () => {
  wx.__server.on('GET', '/topics', (req) =>
    req.query.cursor === 'c2' ? { items: [fx.topic({ id: 2 })], next_cursor: null } : { items: [fx.topic()], next_cursor: 'c2' }
  )
  const page = await open()
  tap(page, '#load-more')
  await settle()
  expect(page.data.items.map((t) => t.id)).toEqual([7, 2])
  expect(page.querySelector('#load-more')).toBeUndefined()
})

test('coming back to the page reloads', async () => {
  const page = await open()
  page.instance.onShow()
  await settle()
  expect(wx.__server.calls('GET', '/topics')).toHaveLength(2)
})
