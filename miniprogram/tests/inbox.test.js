// 消息、成绩单、通报。
const { createWx } = require('./helpers/wx')
const { loadPage, render, settle } = require('./helpers/page')
const config = require('../src/config')

let notificationsId
let statsId
let bulletinId
let wx
beforeAll(() => {
  notificationsId = loadPage('pages/notifications/notifications')
  statsId = loadPage('pages/stats/stats')
  bulletinId = loadPage('pages/bulletin/bulletin')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
})

test('notifications: unread ones stand out; opening marks read and goes to the report', async () => {
  wx.__server.on('GET', '/notifications', {
    items: [
      { id: 'n1', title: '您反映的问题已受理', body: '路灯：幸福里社区已受理', ticket_id: 't1', read: false, created_at: '2026-10-01T09:00:00+08:00' },
      { id: 'n2', title: '您反映的问题已办结', body: '请您评价', ticket_id: 't2', read: true, created_at: '2026-10-02T09:00:00+08:00' },
    ],
    next_cursor: null,
    unread: 1,
  })
  wx.__server.on('POST', '/notifications/n1/read', {})
  const page = render(notificationsId)
  page.instance.onLoad({})
  await settle()
  const notes = page.querySelectorAll('.note')
  expect(notes[0].dom.className).toMatch(/note-unread/)
  expect(notes[1].dom.className).not.toMatch(/note-unread/)
  expect(page.dom.textContent).toContain('有1条没看过的消息')
  notes[0].dispatchEvent('tap')
  await settle()
  expect(wx.__server.calls('POST', '/notifications/n1/read')).toHaveLength(1)
  expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/ticket/ticket?id=t1' }))
  expect(page.data.unread).toBe(0)
})

test('report card: the three rates of a unit for a month, and the bulletins', async () => {
  wx.__server.on('GET', '/units', { items: [{ id: 7, name: '幸福里社区' }] })
  wx.__server.on('GET', '/stats/units/7', (req) => ({
    unit: { id: 7, name: '幸福里社区' },
    period: req.query.period,
    received: 42,
    response_rate: 0.976,
    resolution_rate: 0.881,
    satisfaction_rate: 0.9,
    unrated: 3,
    overdue: 1,
    ranked: true,
  }))
  wx.__server.on('GET', '/bulletins', { items: [{ id: 'b1', title: '2026年9-10月接诉即办通报', period: '2026-09/2026-10', published_at: '2026-11-05T10:00:00+08:00' }] })
  const page = render(statsId)
  page.instance.onLoad({ unit: '7', period: '2026-10' })
  await settle()
  expect(wx.__server.calls('GET', '/stats/units/7')[0].query.period).toBe('2026-10')
  const card = page.querySelector('#card').dom.textContent
  expect(card).toContain('幸福里社区 2026年10月')
  expect(card).toContain('42')
  expect(card).toContain('97.6%响应率')
  expect(card).toContain('88.1%解决率')
  expect(card).toContain('90%满意率')
  expect(card).toContain('超时 1 件，还没评价 3 件')
  expect(page.dom.textContent).toContain('2026年9-10月接诉即办通报')
  page.instance.onPickPeriod({ detail: { value: '2026-09' } })
  await settle()
  expect(wx.__server.calls('GET', '/stats/units/7')[1].query.period).toBe('2026-09')
})

test('a bulletin shows each unit with its rates', async () => {
  wx.__server.on('GET', '/bulletins/b1', {
    id: 'b1',
    title: '9-10月通报',
    published_at: '2026-11-05T10:00:00+08:00',
    units: [{ unit: { id: 7, name: '幸福里社区' }, received: 42, response_rate: 0.98, resolution_rate: 0.9, satisfaction_rate: 0.95 }],
  })
  const page = render(bulletinId)
  page.instance.onLoad({ id: 'b1' })
  await settle()
  const row = page.querySelector('.table-row').dom.textContent
  expect(row).toContain('1. 幸福里社区')
  expect(row).toContain('98%')
  expect(row).toContain('95%')
})
