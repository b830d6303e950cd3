// 登记住址：社区、小区只从服务器的单位树里选；门牌必填；同样的内容再点用同一个键；我登记过的和它们的状态。
const { createWx, NETWORK_FAIL, lastToast, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const fx = require('./helpers/fixtures')
const config = require('../src/config')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/topics/home')
})

const COMMUNITIES = [fx.unitBrief(4, '花桥社区', 'community', 2), fx.unitBrief(5, '幸福社区', 'community', 2)]
const COMPOUNDS = [fx.unitBrief(41, '花桥社区幸福里', 'compound', 4), fx.unitBrief(42, '花桥社区阳光苑', 'compound', 4), fx.unitBrief(51, '幸福社区东苑', 'compound', 5)]

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  wx.__server.on('GET', '/units', (req) => ({ items: req.query.kind === 'compound' ? COMPOUNDS : COMMUNITIES, next_cursor: null }))
  wx.__server.on('GET', '/roll/mine', { items: [fx.rollEntry({ id: 30, unit_id: 42, household: '1栋101', status: 'confirmed' })] })
})

async function open() {
  const page = render(pageId)
  page.instance.onLoad({})
  await settle()
  return page
}

function input(page, selector, value) {
  page.querySelector(selector).dispatchEvent('input', { detail: { value } })
}

test('my claims with their unit names and status', async () => {
  const page = await open()
  expect(wx.__server.calls('GET', '/units').map((c) => c.query.kind).sort()).toEqual(['community', 'compound'])
  expect(text(page, '#claim-30')).toContain('花桥社区阳光苑 1栋101')
  expect(text(page, '#claim-30')).toContain('已确认')
})

test('no claims yet: says so', async () => {
  wx.__server.on('GET', '/roll/mine', { items: [] })
  const page = await open()
  expect(text(page, '#no-claims')).toBe('还没有登记过')
})

test('claim a home: community, then one of its compounds, and the household', async () => {
  wx.__server.on('POST', '/roll/claims', (req) => ({ status: 201, body: fx.rollEntry({ id: 31, unit_id: req.data.unit_id, household: req.data.household, name: req.data.name }) }))
  const page = await open()
  tap(page, '#claim')
  await settle()
  expect(text(page, '#form-error')).toBe('请选择您住的社区和小区')

  page.instance.onPickCommunity({ detail: { value: '0' } })
  await settle()
  // 只列这个社区下的小区
  expect(page.data.compoundNames).toEqual(['花桥社区幸福里', '花桥社区阳光苑'])
  tap(page, '#claim')
  await settle()
  expect(text(page, '#form-error')).toBe('请写上您家是几栋几单元几号')
  page.instance.onPickCompound({ detail: { value: '0' } })
  input(page, '#household', ' 3栋2单元501 ')
  input(page, '#name', '刘阿姨')
  await settle()
  tap(page, '#claim')
  await settle()
  const calls = wx.__server.calls('POST', '/roll/claims')
  expect(calls).toHaveLength(1)
  expect(calls[0].data).toEqual({ unit_id: 41, household: '3栋2单元501', name: '刘阿姨' })
  expect(text(page, '#claim-31')).toContain('花桥社区幸福里 3栋2单元501')
  expect(text(page, '#claim-31')).toContain('待确认')
  expect(lastToast(wx)).toBe('已登记，等工作人员确认')
})

test('a community without compounds is claimed as the community', async () => {
  wx.__server.on('POST', '/roll/claims', (req) => ({ status: 201, body: fx.rollEntry({ unit_id: req.data.unit_id }) }))
  wx.__server.on('GET', '/units', (req) => ({ items: req.query.kind === 'compound' ? [] : COMMUNITIES, next_cursor: null }))
  const page = await open()
  page.instance.onPickCommunity({ detail: { value: '1' } })
  input(page, '#household', '5号')
  await settle()
  expect(page.querySelector('#pick-compound')).toBeUndefined()
  tap(page, '#claim')
  await settle()
  expect(wx.__server.calls('POST', '/roll/claims')[0].data.unit_id).toBe(5)
})

test('refusals in Chinese; after a network failure the same claim goes with the same key', async () => {
  wx.__server.on('POST', '/roll/claims', error(409, 'already_confirmed', '该住址已确认'))
  const page = await open()
  page.instance.onPickCommunity({ detail: { value: '0' } })
  page.instance.onPickCompound({ detail: { value: '1' } })
  input(page, '#household', '1栋101')
  await settle()
  tap(page, '#claim')
  await settle()
  expect(text(page, '#form-error')).toBe('这个住址已经确认过了')

  let online = false
  wx.__server.on('POST', '/roll/claims', () => (online ? { status: 201, body: fx.rollEntry() } : NETWORK_FAIL))
  input(page, '#household', '1栋102')
  await settle()
  tap(page, '#claim')
  await settle(10)
  expect(text(page, '#form-error')).toBe('网络不好，请稍后再试')
  online = true
  tap(page, '#claim')
  await settle()
  const keys = wx.__server.calls('POST', '/roll/claims').filter((c) => c.data.household === '1栋102').map((c) => c.header['Idempotency-Key'])
  expect(keys.length).toBeGreaterThan(1)
  expect(new Set(keys).size).toBe(1)
})

test('a failure to load is told and "再试一次" loads again', async () => {
  let online = false
  wx.__server.on('GET', '/roll/mine', () => (online ? { items: [] } : NETWORK_FAIL))
  const page = await open()
  await settle(10)
  expect(text(page, '.load-error-text')).toBe('网络不好，请稍后再试')
  online = true
  tap(page, '.retry-btn')
  await settle()
  expect(page.querySelector('.load-error')).toBeUndefined()
  expect(page.data.communityNames).toEqual(['花桥社区', '幸福社区'])
})
