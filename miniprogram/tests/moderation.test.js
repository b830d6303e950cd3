// 待审核：被拦下的反映一页页取（next_cursor），通过或不公开（必须写原因），处理完就从列表里拿掉；
// 没有权限（403）显示“无权限”；别人先处理过（409）就刷新。
const { createWx, NETWORK_FAIL, lastToast, error } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const { ticket, media, userWith } = require('./helpers/fixtures')
const config = require('../src/config')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/moderation/moderation')
})

// 一条被拦下、等审核的反映
function held(id, overrides = {}) {
  return ticket(Object.assign({
    id,
    status: 'submitted',
    status_label: '待受理',
    held: true,
    description: `第${id}条：楼下有人乱贴小广告，电话是……`,
    media: [media(id)],
    rating: null,
    resolved_at: null,
    responded_at: null,
    assignee: null,
    allowed_actions: [],
  }, overrides))
}

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  const grid = userWith('grid_worker')
  wx.__server.on('GET', '/me', grid)
  wx.__server.on('POST', '/auth/login', { token: 'tok', expires_at: '2999-01-01T00:00:00+08:00', user: grid })
  wx.__server.on('GET', '/moderation/tickets', { items: [held(52), held(51)], next_cursor: null })
})

async function open() {
  const page = render(pageId)
  page.instance.onLoad({})
  await settle()
  return page
}

function ids(page) {
  return page.data.items.map((t) => t.id)
}

function cancelNextModal() {
  wx.showModal.mockImplementationOnce((opts) => {
    setTimeout(() => opts.success && opts.success({ errMsg: 'showModal:ok', confirm: false, cancel: true }), 0)
  })
}

describe('the queue', () => {
  test('shows the held reports with their text and photos', async () => {
    const page = await open()
    expect(wx.__server.calls('GET', '/moderation/tickets')[0].query).toEqual({ limit: '20' })
    expect(ids(page)).toEqual([52, 51])
    const card = text(page, '#item-52')
    expect(card).toContain('路灯损坏')
    expect(card).toContain('第52条：楼下有人乱贴小广告')
    expect(card).toContain('编号 52')
    expect(page.data.items[0].photos[0].thumb).toBe('http://127.0.0.1:8000/media/2026/10/ab/photo52-thumb.jpg')
    expect(page.querySelector('#approve-52')).toBeDefined()
    expect(page.querySelector('#hide-52')).toBeDefined()
  })

  test('keyset paging: "加载更多" asks for the next cursor and appends', async () => {
    wx.__server.on('GET', '/moderation/tickets', (req) =>
      req.query.cursor === 'c2'
        ? { items: [held(40), held(39)], next_cursor: null }
        : { items: [held(52), held(51)], next_cursor: 'c2' }
    )
    const page = await open()
    expect(page.querySelector('#load-more')).toBeDefined()
    tap(page, '#load-more')
    await settle()
    const calls = wx.__server.calls('GET', '/moderation/tickets')
    expect(calls.map((c) => c.query)).toEqual([{ limit: '20' }, { limit: '20', cursor: 'c2' }])
    expect(ids(page)).toEqual([52, 51, 40, 39])
    expect(page.querySelector('#load-more')).toBeUndefined()
    // 到底了，再拉也不会再取
    page.instance.onReachBottom()
    await settle()
    expect(wx.__server.calls('GET', '/moderation/tickets')).toHaveLength(2)
  })

  test('nothing held: says so', async () => {
    wx.__server.on('GET', '/moderation/tickets', { items: [], next_cursor: null })
    const page = await open()
    expect(text(page, '#empty')).toBe('没有待审核的反映')
  })

  test('403: a "无权限" state instead of the list', async () => {
    wx.__server.on('GET', '/moderation/tickets', error(403, 'not_staff', '只有工作人员可以审核'))
    const page = await open()
    const state = text(page, '#forbidden')
    expect(state).toContain('无权限')
    expect(state).toContain('只有工作人员可以审核')
    expect(page.querySelector('#empty')).toBeUndefined()
    expect(page.querySelector('#list-error')).toBeUndefined()
    expect(page.querySelectorAll('.held')).toHaveLength(0)
  })

  test('a network failure is told in Chinese and can be retried', async () => {
    let online = false
    wx.__server.on('GET', '/moderation/tickets', () => (online ? { items: [held(52)], next_cursor: null } : NETWORK_FAIL))
    const page = await open()
    await settle(10)
    expect(text(page, '#list-error')).toContain('网络不好，请稍后再试')
    online = true
    tap(page, '#retry')
    await settle()
    expect(ids(page)).toEqual([52])
  })
})

describe('approve', () => {
  test('after confirming, the report is approved and leaves the list', async () => {
    wx.__server.on('POST', '/moderation/tickets/:id/approve', (req) => held(Number(req.params.id), { held: false }))
    const page = await open()
    tap(page, '#approve-52')
    await settle()
    expect(wx.showModal).toHaveBeenCalledTimes(1)
    expect(wx.showModal.mock.calls[0][0].content).toContain('公开')
    const calls = wx.__server.calls('POST', '/moderation/tickets/52/approve')
    expect(calls).toHaveLength(1)
    expect(calls[0].data).toEqual({ note: '' })
    expect(calls[0].header['Idempotency-Key']).toBeTruthy()
    expect(ids(page)).toEqual([51])
    expect(page.querySelector('#item-52')).toBeUndefined()
    expect(lastToast(wx)).toBe('已通过')
  })

  test('cancelled in the dialog: nothing is sent', async () => {
    const page = await open()
    cancelNextModal()
    tap(page, '#approve-52')
    await settle()
    expect(wx.__server.calls('POST', /\/moderation\//)).toHaveLength(0)
    expect(ids(page)).toEqual([52, 51])
  })

  test('someone else got there first (409): told, and the list is refreshed', async () => {
    wx.__server.on('POST', '/moderation/tickets/52/approve', error(409, 'not_held', '该问题不在审核队列中'))
    const page = await open()
    wx.__server.on('GET', '/moderation/tickets', { items: [held(51)], next_cursor: null })
    tap(page, '#approve-52')
    await settle()
    expect(lastToast(wx)).toBe('该问题不在审核队列中，已为您刷新')
    expect(wx.__server.calls('GET', '/moderation/tickets')).toHaveLength(2)
    expect(ids(page)).toEqual([51])
  })

  test('not allowed for this report (403): told in Chinese, the item stays', async () => {
    wx.__server.on('POST', '/moderation/tickets/52/approve', error(403, 'forbidden', '没有权限审核该问题'))
    const page = await open()
    tap(page, '#approve-52')
    await settle()
    expect(lastToast(wx)).toBe('没有权限审核该问题')
    expect(ids(page)).toEqual([52, 51])
    expect(page.data.busyId).toBeNull()
  })

  test('the last item on a page goes: the next page is fetched', async () => {
    wx.__server.on('GET', '/moderation/tickets', (req) =>
      req.query.cursor === 'c2' ? { items: [held(40)], next_cursor: null } : { items: [held(52)], next_cursor: 'c2' }
    )
    wx.__server.on('POST', '/moderation/tickets/52/approve', held(52, { held: false }))
    const page = await open()
    tap(page, '#approve-52')
    await settle()
    expect(ids(page)).toEqual([40])
  })
})

describe('hide', () => {
  test('a reason is required; with one, it is hidden and leaves the list', async () => {
    wx.__server.on('POST', '/moderation/tickets/:id/hide', (req) => held(Number(req.params.id)))
    const page = await open()
    tap(page, '#hide-51')
    await settle()
    expect(page.querySelector('#hide-form')).toBeDefined()
    expect(page.querySelector('#approve-51')).toBeUndefined()

    // 没写原因：不弹窗、不发
    tap(page, '#hide-confirm')
    await settle()
    expect(text(page, '#reason-error')).toBe('请写明不公开的原因，反映人会看到')
    expect(wx.showModal).not.toHaveBeenCalled()
    // 只有空格也不算
    page.querySelector('#reason').dispatchEvent('input', { detail: { value: '   ' } })
    await settle()
    tap(page, '#hide-confirm')
    await settle()
    expect(wx.__server.calls('POST', /\/hide$/)).toHaveLength(0)

    page.querySelector('#reason').dispatchEvent('input', { detail: { value: ' 含有他人的电话号码 ' } })
    await settle()
    tap(page, '#hide-confirm')
    await settle()
    expect(wx.showModal).toHaveBeenCalledTimes(1)
    expect(wx.showModal.mock.calls[0][0].content).toContain('反映人会收到')
    const calls = wx.__server.calls('POST', '/moderation/tickets/51/hide')
    expect(calls).toHaveLength(1)
    expect(calls[0].data).toEqual({ reason: '含有他人的电话号码' })
    expect(ids(page)).toEqual([52])
    expect(page.querySelector('#hide-form')).toBeUndefined()
    expect(lastToast(wx)).toBe('已设为不公开')
  })

  test('cancel closes the reason box without sending', async () => {
    const page = await open()
    tap(page, '#hide-52')
    await settle()
    tap(page, '#hide-cancel')
    await settle()
    expect(page.querySelector('#hide-form')).toBeUndefined()
    expect(wx.__server.calls('POST', /\/moderation\//)).toHaveLength(0)
  })

  test('after a network failure, trying again sends the same key', async () => {
    let online = false
    wx.__server.on('POST', '/moderation/tickets/52/hide', () => (online ? held(52) : NETWORK_FAIL))
    const page = await open()
    tap(page, '#hide-52')
    await settle()
    page.querySelector('#reason').dispatchEvent('input', { detail: { value: '重复的广告' } })
    await settle()
    tap(page, '#hide-confirm')
    await settle(10)
    expect(lastToast(wx)).toBe('网络不好，请稍后再试')
    expect(ids(page)).toEqual([52, 51])
    online = true
    tap(page, '#hide-confirm')
    await settle()
    const keys = wx.__server.calls('POST', '/moderation/tickets/52/hide').map((c) => c.header['Idempotency-Key'])
    expect(keys.length).toBe(config.networkRetries + 2)
    expect(new Set(keys).size).toBe(1)
    expect(ids(page)).toEqual([51])
  })
})
