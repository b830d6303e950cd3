// 反映表单经得起丢失、少点几下：草稿跨页面回收、离开先问、位置先核对服务范围、
// 紧急类型先给电话、照片删了能撤销、加载失败能再试、定位被拒能去设置，以及点几下能报完。
const { createWx, NETWORK_FAIL, error, expectOnlyDescriptionContractGap } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const { ticket, consent, created, CATEGORIES, UNIT_DETAIL } = require('./helpers/fixtures')
const config = require('../src/config')
const location = require('../src/utils/location')
const privacy = require('../src/utils/privacy')

const DRAFT_KEY = 'gz_draft_report'

let reportId
let homeId
let wx
beforeAll(() => {
  // report first: a component shared by two pages renders only in the first page loaded
  reportId = loadPage('pages/report/report')
  homeId = loadPage('pages/index/index')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  config.devLoginName = ''
  location.reset()
  privacy.reset()
})


async function openForm() {
  const page = render(reportId)
  page.instance.onLoad({})
  await settle()
  return page
}

function typeDescription(page, value) {
  page.querySelector('#description').dispatchEvent('input', { detail: { value } })
}

describe('the draft survives the page being dropped', () => {
  test('every change is saved, and leaving asks first', async () => {
    const page = await openForm()
    expect(wx.__storage[DRAFT_KEY]).toBeUndefined()
    page.querySelectorAll('.cat-tile')[0].dispatchEvent('tap')
    await settle()
    expect(wx.__storage[DRAFT_KEY].data.categoryCode).toBe('streetlight')
    expect(wx.enableAlertBeforeUnload).toHaveBeenCalledWith({ message: expect.stringContaining('还没提交') })
    typeDescription(page, '路灯')
    await settle()
    expect(wx.__storage[DRAFT_KEY].data.description).toBe('路灯')
    expect(wx.__storage[DRAFT_KEY].data.location).toMatchObject({ lat: 30.5801, lng: 114.2734 })
  })

  test('a page dropped after the photo was uploaded comes back whole and submits without uploading again', async () => {
    wx.__server.on('POST', '/tickets', { status: 201, body: created() })
    const first = await openForm()
    first.querySelectorAll('.cat-tile')[1].dispatchEvent('tap')
    tap(first, '#add-photo')
    await settle()
    typeDescription(first, '垃圾三天没人清')
    await settle()
    // 相机打开时页面先 onHide，随后系统把小程序收回了：页面没了，只剩本机存储
    first.instance.onHide()
    first.detach()

    const again = await openForm()
    expect(again.querySelector('#draft-restored')).toBeDefined()
    expect(again.data.categoryCode).toBe('sanitation')
    expect(again.data.description).toBe('垃圾三天没人清')
    expect(again.data.photos).toHaveLength(1)
    expect(again.data.photos[0]).toMatchObject({ id: 1, state: 'done' })
    expect(again.querySelectorAll('.cat-tile')[1].dom.className).toMatch(/cat-tile-on/)

    tap(again, '#submit')
    await settle()
    expect(wx.uploadFile).toHaveBeenCalledTimes(1)
    const posts = wx.__server.calls('POST', '/tickets')
    expect(posts).toHaveLength(1)
    expect(posts[0].data).toMatchObject({ category: 'sanitation', description: '垃圾三天没人清', media: [1] })
    // 提交成功：草稿清掉，返回不再拦
    expect(wx.__storage[DRAFT_KEY]).toBeUndefined()
    expect(wx.disableAlertBeforeUnload).toHaveBeenCalled()
  })

  test('a photo still uploading when the page was dropped is uploaded again with the same key', async () => {
    let online = false
    wx.__server.on('POST', '/media', () => (online ? { status: 201, body: { id: 5, url: '/media/a.jpg', thumbnail_url: '/media/a-t.jpg', width: 800, height: 600 } } : NETWORK_FAIL))
    const first = await openForm()
    first.querySelectorAll('.cat-tile')[0].dispatchEvent('tap')
    tap(first, '#add-photo')
    await settle()
    expect(first.data.photos[0].state).toBe('failed')
    const key = first.data.photos[0].key
    first.detach()

    online = true
    const again = await openForm()
    await settle()
    expect(again.data.photos[0]).toMatchObject({ id: 5, state: 'done' })
    const keys = wx.uploadFile.mock.calls.map((c) => c[0].header['Idempotency-Key'])
    expect(new Set(keys)).toEqual(new Set([key]))
  })

  test('重新填写 throws the draft away; a draft older than a week is not restored', async () => {
    const page0 = await openForm()
    page0.querySelectorAll('.cat-tile')[0].dispatchEvent('tap')
    await settle()
    page0.detach()
    const page = await openForm()
    tap(page, '#discard-draft')
    await settle()
    expect(page.data.categoryCode).toBe('')
    expect(page.querySelector('#draft-restored')).toBeUndefined()
    expect(wx.__storage[DRAFT_KEY]).toBeUndefined()
    page.detach()

    wx.__storage[DRAFT_KEY] = { at: Date.now() - 8 * 24 * 3600 * 1000, data: { categoryCode: 'streetlight', description: '旧的', photos: [] } }
    const fresh = await openForm()
    expect(fresh.data.categoryCode).toBe('')
    expect(fresh.data.description).toBe('')
    expect(wx.__storage[DRAFT_KEY]).toBeUndefined()
  })
})

describe('the place is checked before the form is filled', () => {
  test('inside the service area the page says which unit it belongs to', async () => {
    const page = await openForm()
    const q = wx.__server.calls('GET', '/units/locate')[0].query
    expect(q).toEqual({ lat: '30.5801', lng: '114.2734', coord: 'gcj02' })
    expect(text(page, '#place-unit')).toBe('这里归花桥社区管')
    expect(page.querySelector('#place-outside')).toBeUndefined()
  })

  test('outside the service area it warns at once, and a place picked on the map is checked again', async () => {
    wx.__server.on('GET', '/units/locate', (req) =>
      req.query.lat === '30.5801' ? error(404, 'outside_all_units', '该位置不在任何治理单位的范围内') : UNIT_DETAIL
    )
    const page = await openForm()
    expect(text(page, '#place-outside')).toMatch(/不在服务范围内/)
    tap(page, '#choose-location')
    await settle()
    expect(wx.__server.calls('GET', '/units/locate').pop().query).toMatchObject({ lat: '30.581', lng: '114.274' })
    expect(page.querySelector('#place-outside')).toBeUndefined()
    expect(text(page, '#place-unit')).toBe('这里归花桥社区管')
  })
})

describe('emergencies come before the form', () => {
  const RISKY = [
    { id: 20, code: 'gas_leak', name: '燃气泄漏', icon: 'gas', description: '', handler_kind: 'street', respond_hours: 1, resolve_days: 1, resolve_hours: null },
    { id: 21, code: 'wire_down', name: '电线断落', icon: 'power', description: '', handler_kind: 'street', respond_hours: 1, resolve_days: 1, resolve_hours: null },
    { id: 22, code: 'outage', name: '停电', icon: 'power', description: '', handler_kind: 'street', respond_hours: 24, resolve_days: 2, resolve_hours: null },
  ]

  test('gas shows 119 with a call button; a live wire shows 95598; a power cut and a street light show none', async () => {
    wx.__server.on('GET', '/categories', { items: CATEGORIES.concat(RISKY) })
    const page = await openForm()
    const tiles = page.querySelectorAll('.cat-tile')
    tiles[0].dispatchEvent('tap')
    await settle()
    expect(page.querySelector('#emergency')).toBeUndefined()

    tiles[3].dispatchEvent('tap')
    await settle()
    expect(text(page, '#emergency')).toMatch(/燃气泄漏可能有危险/)
    expect(text(page, '#call-emergency')).toBe('打电话 119')
    tap(page, '#call-emergency')
    await settle()
    expect(wx.makePhoneCall).toHaveBeenCalledWith(expect.objectContaining({ phoneNumber: '119' }))

    tiles[4].dispatchEvent('tap')
    await settle()
    expect(text(page, '#call-emergency')).toBe('打电话 95598')

    tiles[5].dispatchEvent('tap')
    await settle()
    expect(page.querySelector('#emergency')).toBeUndefined()
  })
})

describe('photos', () => {
  test('a removed photo comes back with 撤销, in its place', async () => {
    const page = await openForm()
    tap(page, '#add-photo')
    await settle()
    tap(page, '#add-photo')
    await settle()
    const before = page.data.photos.map((p) => p.path)
    page.querySelectorAll('.photo-remove')[0].dispatchEvent('tap')
    await settle()
    expect(page.data.photos.map((p) => p.path)).toEqual([before[1]])
    expect(text(page, '#photo-undo')).toMatch(/删掉了一张照片/)
    tap(page, '#undo-photo')
    await settle()
    expect(page.data.photos.map((p) => p.path)).toEqual(before)
    expect(page.querySelector('#photo-undo')).toBeUndefined()
  })
})

describe('failures leave a way on', () => {
  test('when the categories fail to load, 再试一次 loads them', async () => {
    let up = false
    wx.__server.on('GET', '/categories', () => (up ? { items: CATEGORIES } : NETWORK_FAIL))
    const page = await openForm()
    expect(page.querySelectorAll('.cat-tile')).toHaveLength(0)
    expect(page.dom.textContent).toContain('网络不好，请稍后再试')
    up = true
    tap(page, '.retry-btn')
    await settle()
    expect(page.querySelectorAll('.cat-tile')).toHaveLength(3)
    expect(page.querySelector('.retry-btn')).toBeUndefined()
  })

  test('with the phone\'s location switched off it says so, and offers no WeChat settings button', async () => {
    wx.getLocation.mockImplementation((opts) => setTimeout(() => opts.fail({ errMsg: 'getLocation:fail system permission denied' }), 0))
    const page = await openForm()
    expect(page.data.locationError).toMatch(/手机的定位没有打开/)
    expect(page.querySelector('#open-setting')).toBeUndefined()
  })

  test('after location is refused, the settings page is one tap away and the place follows', async () => {
    let allowed = false
    wx.getLocation.mockImplementation((opts) =>
      setTimeout(() => (allowed ? opts.success({ latitude: 30.57, longitude: 114.27 }) : opts.fail({ errMsg: 'getLocation:fail auth deny' })), 0)
    )
    wx.openSetting.mockImplementation((opts) => {
      allowed = true
      setTimeout(() => opts.success({ authSetting: { 'scope.userLocation': true } }), 0)
    })
    const page = await openForm()
    expect(page.data.location).toBeNull()
    expect(page.dom.textContent).toContain('去设置里打开')
    tap(page, '#open-setting')
    await settle()
    expect(wx.openSetting).toHaveBeenCalled()
    expect(page.data.location).toMatchObject({ lat: 30.57, lng: 114.27 })
    expect(page.querySelector('#open-setting')).toBeUndefined()
  })
})

// 数点几下：页面上点一下算一下；要居民回答的系统弹窗也各算一下（相机：按快门；
// 权限：点“允许”；订阅提醒：点“允许”）。老用户：位置权限、隐私同意、订阅的“总是保持以上选择”
// 微信都记着，这些弹窗不再出现。
describe('taps to report', () => {
  function walker({ firstTime }) {
    let taps = 0
    const counted = (name, when) => {
      const impl = wx[name].getMockImplementation()
      wx[name].mockImplementation((opts) => {
        if (when()) taps += 1
        return impl(opts)
      })
    }
    let locationPrompted = false
    counted('chooseMedia', () => true)
    counted('getLocation', () => {
      if (!firstTime || locationPrompted) return false
      locationPrompted = true
      return true
    })
    counted('requestSubscribeMessage', () => firstTime)
    return {
      tap(node, event = 'tap') {
        if (!node) throw new Error('nothing to tap')
        taps += 1
        node.dispatchEvent(event)
      },
      get taps() {
        return taps
      },
    }
  }

  async function startFromHome(w) {
    const home = render(homeId)
    home.instance.onLoad()
    await settle()
    w.tap(home.querySelector('#report'))
    await settle()
    expect(wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/report/report' }))
    return openForm()
  }

  test('a returning resident with a photo reports in 5 taps, without writing a word', async () => {
    wx.__server.on('POST', '/tickets', { status: 201, body: created() })
    const w = walker({ firstTime: false })
    const page = await startFromHome(w)
    w.tap(page.querySelectorAll('.cat-tile')[0])
    w.tap(page.querySelector('#add-photo'))
    await settle()
    w.tap(page.querySelector('#submit'))
    await settle()
    expect(page.data.done).not.toBeNull()
    expect(w.taps).toBe(5)
    const body = wx.__server.calls('POST', '/tickets')[0].data
    expect(body).toMatchObject({ category: 'streetlight', media: [1], lat: 30.5801, lng: 114.2734 })
    expectOnlyDescriptionContractGap()
  })

  test('a first-time resident reports in 8 taps, agreeing to the privacy guide once', async () => {
    global.wx = wx = createWx({ needPrivacy: true })
    wx.__server.on('GET', '/me/consent', consent(false))
    wx.__server.on('POST', '/me/consent', { status: 201, body: consent(true) })
    wx.__server.on('POST', '/tickets', { status: 201, body: created() })
    wx.__server.on('POST', '/me/subscriptions', { quota: { ticket_accepted: 1 } })
    const w = walker({ firstTime: true })
    const page = await startFromHome(w)
    // 隐私说明在用到位置时才出现（不是一打开小程序就问）
    expect(page.dom.textContent).toContain('使用前请您同意')
    wx.getPrivacySetting.mockImplementation((opts) => setTimeout(() => opts.success({ needAuthorization: false }), 0))
    w.tap(page.querySelector('#privacy').querySelector('#agree-privacy'), 'agreeprivacyauthorization')
    await settle()
    expect(page.data.location).not.toBeNull()
    w.tap(page.querySelectorAll('.cat-tile')[0])
    w.tap(page.querySelector('#add-photo'))
    await settle()
    w.tap(page.querySelector('#submit'))
    await settle()
    expect(page.data.done).not.toBeNull()
    expect(w.taps).toBe(8)
    const order = wx.__server.requests.filter((r) => r.method === 'POST' && /^\/(me\/consent|tickets)$/.test(r.path)).map((r) => r.path)
    expect(order).toEqual(['/me/consent', '/tickets'])
    expectOnlyDescriptionContractGap()
  })

  test('someone who finds the same problem already reported is done in 3 taps', async () => {
    wx.__server.on('GET', '/tickets/nearby', { items: [ticket({ id: 9, status: 'accepted', status_label: '已受理', supporters: 2, distance_m: 30, coord: 'gcj02', allowed_actions: ['support'] })], next_cursor: null })
    wx.__server.on('POST', '/tickets/9/support', { supporters: 3 })
    const w = walker({ firstTime: false })
    const page = await startFromHome(w)
    w.tap(page.querySelectorAll('.cat-tile')[0])
    await settle()
    w.tap(page.querySelector('.support-btn'))
    await settle()
    expect(wx.__server.calls('POST', '/tickets/9/support')).toHaveLength(1)
    expect(page.dom.textContent).toContain('不用再反映这件事了')
    expect(w.taps).toBe(3)
  })
})

describe('the camera and back', () => {
  test('hidden while the camera is open and shown again, the form is as it was and not reloaded', async () => {
    const page = await openForm()
    page.querySelectorAll('.cat-tile')[0].dispatchEvent('tap')
    typeDescription(page, '路灯不亮')
    await settle()
    const loads = wx.__server.calls('GET', '/categories').length
    page.instance.onHide()
    tap(page, '#add-photo')
    await settle()
    if (page.instance.onShow) page.instance.onShow()
    await settle()
    expect(page.data).toMatchObject({ categoryCode: 'streetlight', description: '路灯不亮' })
    expect(page.data.photos).toHaveLength(1)
    expect(wx.__server.calls('GET', '/categories')).toHaveLength(loads)
    expect(wx.__storage[DRAFT_KEY].data.photos[0].id).toBe(1)
  })

  test('with no reminder templates from the server, submitting shows no reminder line and asks nothing', async () => {
    wx.__server.on('GET', '/config/subscriptions', { templates: [] })
    wx.__server.on('POST', '/tickets', { status: 201, body: created() })
    const page = await openForm()
    page.querySelectorAll('.cat-tile')[0].dispatchEvent('tap')
    tap(page, '#add-photo')
    await settle()
    typeDescription(page, '路灯不亮')
    tap(page, '#submit')
    await settle()
    expect(page.data.done).not.toBeNull()
    expect(wx.requestSubscribeMessage).not.toHaveBeenCalled()
    expect(page.data.subscribeResult).toBe('')
  })
})
