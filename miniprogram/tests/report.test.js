// 居民反映：校验、提交带幂等键、断网后再提交沿用同一个键、附近重复、订阅提醒、隐私同意。
const { createWx, NETWORK_FAIL, lastToast } = require('./helpers/wx')
const { loadPage, render, settle, tap, text } = require('./helpers/page')
const { ticket, media, consent, created } = require('./helpers/fixtures')
const { error, expectOnlyDescriptionContractGap } = require('./helpers/wx')
const config = require('../src/config')
const fs = require('fs')
const path = require('path')

const GATE_WXML = fs.readFileSync(path.join(__dirname, '../src/components/privacy-gate/privacy-gate.wxml'), 'utf8')

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

let pageId
let wx
beforeAll(() => {
  pageId = loadPage('pages/report/report')
})

beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  config.devLoginName = ''
  require('../src/utils/location').reset()
})

async function openForm() {
  const page = render(pageId)
  page.instance.onLoad({})
  await settle()
  return page
}

function typeDescription(page, value) {
  page.querySelector('#description').dispatchEvent('input', { detail: { value } })
}

async function fillAll(page, { description = '3号楼门口的路灯不亮了' } = {}) {
  page.querySelectorAll('.cat-tile')[0].dispatchEvent('tap')
  tap(page, '#add-photo')
  await settle()
  typeDescription(page, description)
  await settle()
}

async function microtasks() {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

function ticketPosts() {
  return wx.__server.calls('POST', '/tickets')
}



test('shows the category grid with a glyph icon for each category', async () => {
  const page = await openForm()
  const tiles = page.querySelectorAll('.cat-tile')
  expect(tiles.map((t) => t.dom.textContent.trim())).toEqual(['灯路灯损坏', '洁环境卫生', '路道路破损'])
  tiles[1].dispatchEvent('tap')
  await settle()
  expect(page.data.categoryCode).toBe('sanitation')
  expect(tiles[1].dom.className).toMatch(/cat-tile-on/)
})

test('locates with gcj02 once the page opens', async () => {
  const page = await openForm()
  expect(wx.getLocation).toHaveBeenCalledWith(expect.objectContaining({ type: 'gcj02' }))
  expect(page.data.location).toMatchObject({ lat: 30.5801, lng: 114.2734 })
})

test('with a photo the sentence is optional: the report is sent without a description', async () => {
  wx.__server.on('POST', '/tickets', { status: 201, body: created() })
  const page = await openForm()
  await fillAll(page, { description: '   ' })
  tap(page, '#submit')
  await settle()
  expect(ticketPosts()).toHaveLength(1)
  expect(ticketPosts()[0].data).not.toHaveProperty('description')
  expect(ticketPosts()[0].data.media).toEqual([1])
  expect(page.data.done).not.toBeNull()
  expectOnlyDescriptionContractGap()
})

test('quick phrases of the chosen category fill the sentence in one tap', async () => {
  wx.__server.on('POST', '/tickets', { status: 201, body: created() })
  const page = await openForm()
  expect(page.querySelectorAll('.phrase')).toHaveLength(0)
  page.querySelectorAll('.cat-tile')[0].dispatchEvent('tap')
  await settle()
  const phrases = page.querySelectorAll('.phrase')
  expect(phrases.map((p) => p.dom.textContent.trim())).toContain('路灯不亮')
  phrases[0].dispatchEvent('tap')
  phrases[1].dispatchEvent('tap')
  await settle()
  expect(page.data.description).toBe('路灯不亮，路灯白天一直亮着')
  page.querySelectorAll('.cat-tile')[1].dispatchEvent('tap')
  await settle()
  expect(page.querySelectorAll('.phrase').map((p) => p.dom.textContent.trim())).toContain('垃圾没人清')
})

test('no photo shows a Chinese message and sends nothing at all', async () => {
  const page = await openForm()
  page.querySelectorAll('.cat-tile')[0].dispatchEvent('tap')
  typeDescription(page, '路灯不亮')
  await settle()
  tap(page, '#submit')
  await settle()
  expect(text(page, '#form-error')).toBe('请至少拍一张照片')
  expect(ticketPosts()).toHaveLength(0)
  expect(wx.uploadFile).not.toHaveBeenCalled()
})

test('no place (location failed) shows a Chinese message and sends no report', async () => {
  wx.getLocation.mockImplementation((opts) => setTimeout(() => opts.fail({ errMsg: 'getLocation:fail auth deny' }), 0))
  const page = await openForm()
  expect(page.data.locationError).toMatch(/在地图上选/)
  await fillAll(page)
  tap(page, '#submit')
  await settle()
  expect(text(page, '#form-error')).toBe('请确定问题在哪里')
  expect(ticketPosts()).toHaveLength(0)
})

test('no category shows a Chinese message', async () => {
  const page = await openForm()
  tap(page, '#submit')
  await settle()
  expect(text(page, '#form-error')).toBe('请先选一个问题类型')
  expect(ticketPosts()).toHaveLength(0)
})

test('a description over 2000 characters is refused', async () => {
  const page = await openForm()
  await fillAll(page, { description: '灯'.repeat(2001) })
  tap(page, '#submit')
  await settle()
  expect(text(page, '#form-error')).toBe('说明不能超过2000个字')
  expect(ticketPosts()).toHaveLength(0)
})

test('submits the report with an Idempotency-Key and shows the thank-you panel', async () => {
  wx.__server.on('POST', '/tickets', (req) => ({
    status: 201,
    body: created({
      description: req.data.description,
      respond_by: new Date(Date.now() + 24 * 3600 * 1000 + 60000).toISOString(),
      media: [media(1)],
    }),
  }))
  const page = await openForm()
  await fillAll(page)
  tap(page, '#submit')
  await settle()

  const posts = ticketPosts()
  expect(posts).toHaveLength(1)
  expect(posts[0].header['Idempotency-Key']).toMatch(UUID_V4)
  expect(posts[0].header.Authorization).toBe('Bearer tok-1')
  expect(posts[0].data).toEqual({
    category: 'streetlight',
    description: '3号楼门口的路灯不亮了',
    lat: 30.5801,
    lng: 114.2734,
    coord: 'gcj02',
    address: '',
    media: [1],
    anonymous: false,
  })
  expect(page.dom.textContent).toContain('已经提交，谢谢您！')
  expect(page.dom.textContent).toContain('花桥社区')
  expect(page.dom.textContent).toContain('受理还剩 1天')
})

test('after a network failure, submitting again sends the SAME Idempotency-Key', async () => {
  let online = false
  wx.__server.on('POST', '/tickets', () => (online ? { status: 201, body: created() } : NETWORK_FAIL))
  const page = await openForm()
  await fillAll(page)

  tap(page, '#submit')
  await settle()
  // 自动重试也失败了：告诉用户网络不好，表单还在
  expect(lastToast(wx)).toBe('网络不好，请稍后再试')
  expect(text(page, '#form-error')).toBe('网络不好，请稍后再试')
  expect(page.data.done).toBeNull()
  const firstTry = ticketPosts().map((c) => c.header['Idempotency-Key'])
  expect(firstTry).toHaveLength(1 + config.networkRetries)

  online = true
  tap(page, '#submit')
  await settle()
  const keys = ticketPosts().map((c) => c.header['Idempotency-Key'])
  expect(new Set(keys).size).toBe(1)
  expect(keys[0]).toMatch(UUID_V4)
  expect(page.data.done).not.toBeNull()
})

test('a changed report after a failure gets a new key, a new report after success too', async () => {
  let fail = true
  wx.__server.on('POST', '/tickets', () => (fail ? NETWORK_FAIL : { status: 201, body: created() }))
  config.networkRetries = 0
  try {
    const page = await openForm()
    await fillAll(page)
    tap(page, '#submit')
    await settle()
    typeDescription(page, '路灯不亮，晚上很黑')
    fail = false
    tap(page, '#submit')
    await settle()
    const keys = ticketPosts().map((c) => c.header['Idempotency-Key'])
    expect(keys).toHaveLength(2)
    expect(keys[0]).not.toBe(keys[1])
  } finally {
    config.networkRetries = 2
  }
})

test('a photo that failed to upload is uploaded again with its own key on submit', async () => {
  let n = 0
  wx.__server.on('POST', '/media', () => (++n <= 1 + config.networkRetries ? NETWORK_FAIL : { status: 201, body: media(7, { width: 800, height: 600 }) }))
  wx.__server.on('POST', '/tickets', { status: 201, body: created() })
  const page = await openForm()
  await fillAll(page)
  expect(page.data.photos[0].state).toBe('failed')
  expect(page.dom.textContent).toContain('没传上去')
  tap(page, '#submit')
  await settle()
  const keys = wx.uploadFile.mock.calls.map((c) => c[0].header['Idempotency-Key'])
  expect(new Set(keys).size).toBe(1)
  expect(ticketPosts()[0].data.media).toEqual([7])
})

test('asks for at most the photos left of 9', async () => {
  const page = await openForm()
  tap(page, '#add-photo')
  await settle()
  tap(page, '#add-photo')
  await settle()
  expect(wx.chooseMedia.mock.calls.map((c) => c[0].count)).toEqual([9, 8])
  expect(wx.chooseMedia.mock.calls[0][0].mediaType).toEqual(['image'])
})

test('nearby reports of the same kind are shown before submitting, with "me too"', async () => {
  wx.__server.on('GET', '/tickets/nearby', (req) => ({
    items:
      req.query.category === 'streetlight'
        ? [ticket({ id: 9, status: 'accepted', status_label: '已受理', description: '路灯坏了', supporters: 2, distance_m: 35.2, coord: 'gcj02', reporter: { display: '群众' }, allowed_actions: ['support'] })]
        : [],
    next_cursor: null,
  }))
  wx.__server.on('POST', '/tickets/9/support', { supporters: 3 })
  const page = await openForm()
  page.querySelectorAll('.cat-tile')[0].dispatchEvent('tap')
  await settle()

  const q = wx.__server.calls('GET', '/tickets/nearby').pop().query
  expect(q).toMatchObject({ lat: '30.5801', lng: '114.2734', coord: 'gcj02', category: 'streetlight', radius: '200' })
  expect(page.dom.textContent).toContain('附近已经有人反映过')
  expect(page.dom.textContent).toContain('离这里35米，2人也遇到了')

  page.querySelector('.support-btn').dispatchEvent('tap')
  await settle()
  const support = wx.__server.calls('POST', '/tickets/9/support')
  expect(support).toHaveLength(1)
  expect(support[0].header['Idempotency-Key']).toMatch(UUID_V4)
  expect(page.dom.textContent).toContain('已记下')
  expect(page.dom.textContent).toContain('3人也遇到了')
})

test('choosing the place on the map keeps its address', async () => {
  wx.__server.on('POST', '/tickets', { status: 201, body: created() })
  const page = await openForm()
  tap(page, '#choose-location')
  await settle()
  expect(wx.chooseLocation).toHaveBeenCalledWith(expect.objectContaining({ latitude: 30.5801, longitude: 114.2734 }))
  expect(page.dom.textContent).toContain('武汉市江岸区幸福路8号 幸福里3号楼')
  await fillAll(page)
  tap(page, '#submit')
  await settle()
  expect(ticketPosts()[0].data).toMatchObject({ lat: 30.581, lng: 114.274, address: '武汉市江岸区幸福路8号 幸福里3号楼' })
})

test('the subscribe prompt comes inside the 提交 tap once the form is valid, and what was accepted is reported', async () => {
  wx.__server.on('POST', '/tickets', { status: 201, body: created() })
  wx.__server.on('POST', '/me/subscriptions', { quota: { ticket_accepted: 1, ticket_answered: 1 } })
  wx.requestSubscribeMessage.mockImplementation((opts) =>
    setTimeout(() => opts.success({ errMsg: 'requestSubscribeMessage:ok', TPL_ACC: 'accept', TPL_ANS: 'accept', TPL_RATE: 'reject' }), 0)
  )
  const page = await openForm()
  await fillAll(page)
  tap(page, '#submit')
  // 弹窗必须在这次点击里直接调用：不等任何网络往返（这里只让出微任务，不让出定时器）
  await microtasks()
  expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(1)
  expect(wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual(['TPL_ACC', 'TPL_ANS', 'TPL_RATE'])
  await settle()
  const subs = wx.__server.calls('POST', '/me/subscriptions')
  expect(subs).toHaveLength(1)
  expect(subs[0].data).toEqual({ accepted: { ticket_accepted: 1, ticket_answered: 1 } })
  expect(page.dom.textContent).toContain('已经提交，谢谢您！')
  expect(page.dom.textContent).toContain('有进展时会在微信里通知您')
})

test('an invalid form does not open the subscribe prompt; a retry after a failure does not open it twice', async () => {
  let online = false
  wx.__server.on('POST', '/tickets', () => (online ? { status: 201, body: created() } : NETWORK_FAIL))
  const page = await openForm()
  tap(page, '#submit')
  await settle()
  expect(wx.requestSubscribeMessage).not.toHaveBeenCalled()
  await fillAll(page)
  tap(page, '#submit')
  await settle()
  expect(page.data.done).toBeNull()
  online = true
  tap(page, '#submit')
  await settle()
  expect(page.data.done).not.toBeNull()
  expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(1)
})

test('where the account qualifies for long-term templates, only those are asked for', async () => {
  wx.__server.on('GET', '/config/subscriptions', {
    templates: [
      { name: 'ticket_accepted', template_id: 'LT_ACC', title: '反映已受理', long_term: true },
      { name: 'ticket_answered', template_id: 'LT_ANS', title: '反映已答复', long_term: true },
      { name: 'rate_reminder', template_id: 'TPL_RATE', title: '请评价办理结果', long_term: false },
    ],
  })
  wx.__server.on('POST', '/tickets', { status: 201, body: created() })
  wx.__server.on('POST', '/me/subscriptions', { quota: {} })
  const page = await openForm()
  await fillAll(page)
  tap(page, '#submit')
  await settle()
  expect(wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual(['LT_ACC', 'LT_ANS'])
})

test('if every template is refused nothing is reported', async () => {
  wx.__server.on('POST', '/tickets', { status: 201, body: created() })
  wx.requestSubscribeMessage.mockImplementation((opts) =>
    setTimeout(() => opts.success({ TPL_ACC: 'reject', TPL_ANS: 'reject', TPL_RATE: 'reject' }), 0)
  )
  const page = await openForm()
  await fillAll(page)
  tap(page, '#submit')
  await settle()
  expect(wx.__server.calls('POST', '/me/subscriptions')).toHaveLength(0)
  expect(page.dom.textContent).toContain('没有开启提醒')
})

describe('consent to the privacy policy before the first report (server: /me/consent)', () => {
  test('someone who agreed already sees no consent box', async () => {
    wx.__server.on('POST', '/tickets', { status: 201, body: created() })
    const page = await openForm()
    expect(page.querySelector('#consent-box')).toBeUndefined()
    await fillAll(page)
    tap(page, '#submit')
    await settle()
    expect(wx.__server.calls('POST', '/me/consent')).toHaveLength(0)
    expect(ticketPosts()).toHaveLength(1)
  })

  test('a first-time reporter must tick the box; the consent is recorded before the report', async () => {
    wx.__server.on('GET', '/me/consent', consent(false))
    wx.__server.on('POST', '/me/consent', { status: 201, body: consent(true) })
    wx.__server.on('POST', '/tickets', { status: 201, body: created() })
    const page = await openForm()
    expect(page.querySelector('#consent-box')).toBeDefined()
    await fillAll(page)
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请先勾选“我已阅读并同意隐私保护指引”')
    expect(ticketPosts()).toHaveLength(0)
    expect(wx.__server.calls('POST', '/me/consent')).toHaveLength(0)

    tap(page, '#consent')
    await settle()
    tap(page, '#submit')
    await settle()
    const consents = wx.__server.calls('POST', '/me/consent')
    expect(consents).toHaveLength(1)
    expect(consents[0].data).toEqual({ policy_version: '2026-11' })
    const order = wx.__server.requests.filter((r) => r.method === 'POST' && /^\/(me\/consent|tickets)$/.test(r.path)).map((r) => r.path)
    expect(order).toEqual(['/me/consent', '/tickets'])
    expect(page.data.done).not.toBeNull()
  })

  test('if the server still says consent_required, the box comes back with its version', async () => {
    wx.__server.on('POST', '/tickets', error(403, 'consent_required', '请先阅读并同意《用户隐私保护指引》', { policy_version: '2026-12' }))
    const page = await openForm()
    await fillAll(page)
    tap(page, '#submit')
    await settle()
    expect(text(page, '#form-error')).toBe('请先阅读并同意《用户隐私保护指引》')
    expect(page.querySelector('#consent-box')).toBeDefined()
    expect(page.data.policyVersion).toBe('2026-12')
    expect(page.data.consentChecked).toBe(false)
  })
})

describe('privacy agreement', () => {
  test('location is not touched until the resident agrees', async () => {
    global.wx = wx = createWx({ needPrivacy: true })
    const page = await openForm()
    expect(wx.getLocation).not.toHaveBeenCalled()
    expect(page.dom.textContent).toContain('使用前请您同意')
    const gate = page.querySelector('#privacy')
    const agree = gate.querySelector('#agree-privacy')
    // 同意按钮必须是微信的隐私同意按钮（open-type），事件名与之对应
    const button = /<button[^>]*id="agree-privacy"[^>]*>/.exec(GATE_WXML)[0]
    expect(button).toContain('open-type="agreePrivacyAuthorization"')
    expect(button).toContain('bindagreeprivacyauthorization="onAgree"')
    agree.dispatchEvent('agreeprivacyauthorization')
    await settle()
    expect(wx.getLocation).toHaveBeenCalledWith(expect.objectContaining({ type: 'gcj02' }))
    expect(page.dom.textContent).not.toContain('使用前请您同意')
  })

  test('declining keeps location and camera off and says what to do', async () => {
    global.wx = wx = createWx({ needPrivacy: true })
    const page = await openForm()
    page.querySelector('#privacy').querySelector('#decline-privacy').dispatchEvent('tap')
    await settle()
    expect(wx.getLocation).not.toHaveBeenCalled()
    expect(page.data.locationError).toMatch(/没有同意使用位置/)
  })

  test('when WeChat asks for agreement itself, the gate answers it with the agree button', async () => {
    const privacy = require('../src/utils/privacy')
    const page = await openForm()
    const resolve = jest.fn()
    privacy.handleNeed(resolve)
    await settle()
    expect(page.dom.textContent).toContain('使用前请您同意')
    page.querySelector('#privacy').querySelector('#agree-privacy').dispatchEvent('agreeprivacyauthorization')
    await settle()
    expect(resolve).toHaveBeenCalledWith({ event: 'agree', buttonId: 'agree-privacy' })
  })
})
