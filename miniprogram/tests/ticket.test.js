// 反映详情：时间线按先后、中文状态；照片；评价；工作人员的操作按钮；有人先改过时刷新。
const { createWx, lastToast } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const { ticket } = require('./helpers/fixtures')
const config = require('../src/config')

const EVENTS = [
  // 故意打乱顺序：页面要按时间排
  { id: 'e3', action: 'assign', from_status: 'accepted', to_status: 'assigned', actor: { role: 'cadre', display: '张主任' }, note: '请李师傅今天处理', media: [], public: true, at: '2026-10-01T10:00:00+08:00' },
  { id: 'e1', action: 'submit', from_status: null, to_status: 'submitted', actor: { role: 'resident', display: '王**' }, note: '', media: [], public: true, at: '2026-10-01T08:00:00+08:00' },
  { id: 'e4', action: 'resolve', from_status: 'assigned', to_status: 'resolved', actor: { role: 'grid_worker', display: '李师傅' }, note: '已更换灯泡', media: [{ id: 'm5', url: 'https://img/m5.jpg', thumbnail_url: 'https://img/m5_t.jpg' }], public: true, at: '2026-10-02T16:30:00+08:00' },
  { id: 'e2', action: 'accept', from_status: 'submitted', to_status: 'accepted', actor: { role: 'grid_worker', display: '李师傅' }, note: '', media: [], public: true, at: '2026-10-01T09:00:00+08:00' },
]

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/ticket/ticket')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  wx.__server.on('GET', '/tickets/t1', ticket())
  wx.__server.on('GET', '/tickets/t1/events', { items: EVENTS, next_cursor: null })
})

async function open() {
  const page = render(pageId)
  page.instance.onLoad({ id: 't1' })
  await settle()
  return page
}

test('the timeline lists events in time order with Chinese labels', async () => {
  const page = await open()
  const titles = page.querySelectorAll('.event-title').map((n) => n.dom.textContent.trim())
  expect(titles).toEqual(['提交反映→ 待受理', '受理→ 已受理', '派单→ 已派单', '办结答复→ 已办结'])
  const events = page.querySelectorAll('.event').map((n) => n.dom.textContent)
  expect(events[1]).toContain('网格员 李师傅')
  expect(events[2]).toContain('请李师傅今天处理')
  expect(events[3]).toContain('10月2日 16:30')
  // 办结时的照片也在时间线上
  expect(page.data.events[3].media).toEqual([{ url: 'https://img/m5.jpg', thumb: 'https://img/m5_t.jpg' }])
})

test('the timeline follows next_cursor to the following page', async () => {
  wx.__server.on('GET', '/tickets/t1/events', (req) =>
    req.query.cursor === 'p2'
      ? { items: [EVENTS[2]], next_cursor: null }
      : { items: [EVENTS[1], EVENTS[3]], next_cursor: 'p2' }
  )
  const page = await open()
  expect(page.data.events.map((e) => e.id)).toEqual(['e1', 'e2', 'e4'])
})

test('shows the status, the unit, the assignee and the photos', async () => {
  const page = await open()
  expect(text(page, '#status')).toBe('已办结')
  expect(page.dom.textContent).toContain('幸福里社区')
  expect(page.dom.textContent).toContain('李师傅')
  expect(page.data.photos).toEqual([{ url: 'https://img/m1.jpg', thumb: 'https://img/m1_t.jpg' }])
  expect(wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '路灯 · 已办结' })
})

test('a resident sees no staff buttons', async () => {
  const page = await open()
  expect(page.querySelector('#action-accept')).toBeUndefined()
  expect(page.data.staffActions).toEqual([])
})

describe('rating', () => {
  test('without a choice nothing is sent and a Chinese message says why', async () => {
    const page = await open()
    tap(page, '#submit-rating')
    await settle()
    expect(text(page, '#rate-error')).toBe('请先选满意、基本满意或不满意')
    expect(wx.__server.calls('POST', '/tickets/t1/rate')).toHaveLength(0)
  })

  test('dissatisfied needs a comment', async () => {
    const page = await open()
    tap(page, '#rating-dissatisfied')
    await settle()
    tap(page, '#submit-rating')
    await settle()
    expect(text(page, '#rate-error')).toBe('请说说哪里不满意，我们好改进')
    expect(wx.__server.calls('POST', '/tickets/t1/rate')).toHaveLength(0)
  })

  test('sends the rating with the comment and the version, then shows it', async () => {
    wx.__server.on('POST', '/tickets/t1/rate', (req) =>
      ticket({ status: 'closed', allowed_actions: [], rating: { rating: req.data.rating, comment: req.data.comment, at: '2026-10-03T08:00:00+08:00' } })
    )
    const page = await open()
    tap(page, '#rating-basically_satisfied')
    page.querySelector('#comment').dispatchEvent('input', { detail: { value: '修好了，就是慢了点' } })
    await settle()
    tap(page, '#submit-rating')
    await settle()
    const calls = wx.__server.calls('POST', '/tickets/t1/rate')
    expect(calls).toHaveLength(1)
    expect(calls[0].data).toEqual({ rating: 'basically_satisfied', comment: '修好了，就是慢了点', version: 4 })
    expect(calls[0].header['Idempotency-Key']).toBeTruthy()
    expect(page.querySelector('#rate-box')).toBeUndefined()
    expect(text(page, '#rated')).toContain('基本满意')
    expect(text(page, '#rated')).toContain('修好了，就是慢了点')
  })

  test('a conflict reloads the ticket and tells the user', async () => {
    wx.__server.on('POST', '/tickets/t1/rate', { status: 409, body: { code: 409, status: 'Conflict', message: 'conflict', errors: {} } })
    const page = await open()
    const loadsBefore = wx.__server.calls('GET', '/tickets/t1').length
    tap(page, '#rating-satisfied')
    await settle()
    tap(page, '#submit-rating')
    await settle()
    expect(lastToast(wx)).toBe('别人刚刚处理过这件事，已为您刷新，请再看一下')
    expect(wx.__server.calls('GET', '/tickets/t1').length).toBe(loadsBefore + 1)
  })
})

describe('staff actions', () => {
  test('buttons follow allowed_actions; accept asks first and sends the version', async () => {
    wx.__server.on('GET', '/tickets/t1', ticket({ status: 'submitted', allowed_actions: ['accept', 'return', 'propose'] }))
    wx.__server.on('POST', '/tickets/t1/accept', ticket({ status: 'accepted' }))
    const page = await open()
    expect(page.querySelectorAll('.btn').map((b) => b.dom.textContent.trim()).filter((t) => ['受理', '退回', '提为议题', '办结答复'].includes(t))).toEqual(['受理', '提为议题', '退回'])
    tap(page, '#action-accept')
    await settle()
    expect(wx.showModal).toHaveBeenCalledTimes(1)
    const calls = wx.__server.calls('POST', '/tickets/t1/accept')
    expect(calls).toHaveLength(1)
    expect(calls[0].data).toEqual({ version: 4, note: '' })
    expect(lastToast(wx)).toBe('已受理')
  })

  test('cancelling the confirmation sends nothing', async () => {
    wx.__server.on('GET', '/tickets/t1', ticket({ status: 'submitted', allowed_actions: ['accept'] }))
    wx.showModal.mockImplementation((opts) => setTimeout(() => opts.success({ confirm: false, cancel: true }), 0))
    const page = await open()
    tap(page, '#action-accept')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/t1/accept')).toHaveLength(0)
  })

  test('resolve opens the handling page', async () => {
    wx.__server.on('GET', '/tickets/t1', ticket({ status: 'in_progress', allowed_actions: ['progress', 'resolve'] }))
    const page = await open()
    tap(page, '#action-resolve')
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/handle/handle?id=t1&action=resolve' }))
  })
})

test('a missing ticket shows a Chinese message', async () => {
  wx.__server.on('GET', '/tickets/t1', { status: 404, body: { code: 404, status: 'Not Found', message: 'not_found', errors: {} } })
  const page = await open()
  expect(page.dom.textContent).toContain('没有找到这条内容')
})
