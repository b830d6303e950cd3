// 工作人员办理：办结必须有照片和说明；退回要选原因；派单要选人；有人先改过就刷新并提示。
const { createWx, NETWORK_FAIL, lastToast } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const { ticket } = require('./helpers/fixtures')
const config = require('../src/config')

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/handle/handle')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  wx.__server.on('GET', '/tickets/t1', ticket({ status: 'in_progress', allowed_actions: ['progress', 'resolve'], version: 6 }))
})

async function open(action) {
  const page = render(pageId)
  page.instance.onLoad({ id: 't1', action })
  await settle()
  return page
}

function writeNote(page, value) {
  page.querySelector('#note').dispatchEvent('input', { detail: { value } })
}

describe('resolve', () => {
  test('without a photo it is refused on the phone and nothing is sent', async () => {
    const page = await open('resolve')
    writeNote(page, '已更换灯泡，恢复照明')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请至少拍一张办理结果的照片')
    expect(lastToast(wx)).toBe('请至少拍一张办理结果的照片')
    expect(wx.__server.calls('POST', '/tickets/t1/resolve')).toHaveLength(0)
  })

  test('without a note it is refused too', async () => {
    const page = await open('resolve')
    tap(page, '#add-photo')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请写一下是怎么解决的')
    expect(wx.__server.calls('POST', '/tickets/t1/resolve')).toHaveLength(0)
  })

  test('with a photo and a note: uploads, sends note + media + version, goes back', async () => {
    wx.__server.on('POST', '/tickets/t1/resolve', ticket({ status: 'resolved', version: 7 }))
    const page = await open('resolve')
    expect(wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '办结答复' })
    tap(page, '#add-photo')
    await settle()
    writeNote(page, '已更换灯泡，恢复照明')
    await settle()
    tap(page, '#submit')
    await settle()
    const calls = wx.__server.calls('POST', '/tickets/t1/resolve')
    expect(calls).toHaveLength(1)
    expect(calls[0].data).toEqual({ note: '已更换灯泡，恢复照明', media: ['m1'], version: 6 })
    expect(calls[0].header['Idempotency-Key']).toBeTruthy()
    expect(lastToast(wx)).toBe('已提交')
    await new Promise((r) => setTimeout(r, 900))
    expect(wx.navigateBack).toHaveBeenCalled()
  })

  test('after a network failure, trying again sends the same key', async () => {
    let online = false
    wx.__server.on('POST', '/tickets/t1/resolve', () => (online ? ticket({ status: 'resolved' }) : NETWORK_FAIL))
    const page = await open('resolve')
    tap(page, '#add-photo')
    await settle()
    writeNote(page, '已修好')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(lastToast(wx)).toBe('网络不好，请稍后再试')
    online = true
    tap(page, '#submit')
    await settle()
    const keys = wx.__server.calls('POST', '/tickets/t1/resolve').map((c) => c.header['Idempotency-Key'])
    expect(keys.length).toBe(config.networkRetries + 2)
    expect(new Set(keys).size).toBe(1)
  })

  test('if someone changed it first (409), the user is told and the ticket reloaded', async () => {
    wx.__server.on('POST', '/tickets/t1/resolve', { status: 409, body: { code: 409, status: 'Conflict', message: 'conflict', errors: {} } })
    const page = await open('resolve')
    tap(page, '#add-photo')
    await settle()
    writeNote(page, '已修好')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(lastToast(wx)).toBe('别人刚刚处理过这件事，已为您刷新，请再看一下')
    expect(wx.__server.calls('GET', '/tickets/t1')).toHaveLength(2)
    expect(wx.navigateBack).not.toHaveBeenCalled()
  })
})

describe('progress', () => {
  test('photos are optional, a note is not', async () => {
    wx.__server.on('POST', '/tickets/t1/progress', ticket({ status: 'in_progress' }))
    const page = await open('progress')
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请写一下现在的进展')
    writeNote(page, '灯泡已订货，明天到')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/t1/progress')[0].data).toEqual({ note: '灯泡已订货，明天到', media: [], version: 6 })
  })
})

describe('return', () => {
  beforeEach(() => {
    wx.__server.on('GET', '/tickets/t1', ticket({ status: 'submitted', allowed_actions: ['accept', 'return'], version: 2 }))
    wx.__server.on('POST', '/tickets/t1/return', ticket({ status: 'returned' }))
  })

  test('needs a reason, and a number for a duplicate', async () => {
    const page = await open('return')
    expect(page.querySelectorAll('.choice').map((c) => c.dom.textContent.trim())).toEqual(['不归我们管', '重复反映', '信息不够，请补充', '情况不属实'])
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请选择退回的原因')
    tap(page, '#reason-duplicate')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请填写重复的那条反映的编号')
    expect(wx.__server.calls('POST', '/tickets/t1/return')).toHaveLength(0)

    page.querySelector('#duplicate-of').dispatchEvent('input', { detail: { value: ' t0 ' } })
    writeNote(page, '同一盏灯昨天已有人反映')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/t1/return')[0].data).toEqual({
      reason: 'duplicate',
      duplicate_of: 't0',
      note: '同一盏灯昨天已有人反映',
      version: 2,
    })
  })

  test('out of scope sends the reason and the note', async () => {
    const page = await open('return')
    tap(page, '#reason-out_of_scope')
    writeNote(page, '属于供电公司，请拨95598')
    await settle()
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/t1/return')[0].data).toEqual({
      reason: 'out_of_scope',
      duplicate_of: null,
      note: '属于供电公司，请拨95598',
      version: 2,
    })
  })
})

describe('assign', () => {
  test('loads the unit staff, needs a person, sends assignee, unit, deadline and priority', async () => {
    wx.__server.on('GET', '/tickets/t1', ticket({ status: 'accepted', allowed_actions: ['assign'], version: 3 }))
    wx.__server.on('GET', '/units/7/staff', { items: [{ id: 's2', display: '李师傅', role: 'grid_worker' }, { id: 's3', display: '赵干事', role: 'cadre' }] })
    wx.__server.on('POST', '/tickets/t1/assign', ticket({ status: 'assigned' }))
    const page = await open('assign')
    expect(page.dom.textContent).toContain('李师傅（网格员）')
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请选择办理人')

    page.querySelectorAll('.choice').find((c) => c.dom.textContent.includes('赵干事')).dispatchEvent('tap')
    page.querySelectorAll('.priority')[1].dispatchEvent('tap')
    await settle()
    page.instance.onDueChange({ detail: { value: '2026-10-09' } })
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/tickets/t1/assign')[0].data).toEqual({
      assignee_id: 's3',
      unit_id: 7,
      priority: 'urgent',
      note: '',
      due_at: '2026-10-09T23:59:00+08:00',
      version: 3,
    })
  })
})
