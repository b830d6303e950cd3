// 登录与 API 模块：凭据、401 重新登录、断网重试沿用同一个幂等键、错误变成中文提示。
const { createWx, NETWORK_FAIL, USER, error, eventually } = require('./helpers/wx')
const { ticket, media, CATEGORIES } = require('./helpers/fixtures')
const config = require('../src/config')
const api = require('../src/utils/api')

// 一份合乎服务器要求的反映
const REPORT = { category: 'streetlight', description: '路灯不亮', lat: 30.57, lng: 114.27, coord: 'gcj02', address: '', media: [1], anonymous: false }

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

let wx
beforeEach(() => {
  wx = createWx()
  global.wx = wx
  config.retryDelayMs = 0
  config.devLoginName = ''
})

describe('login', () => {
  test('on launch the app logs in with the wx.login code and keeps the token', async () => {
    let appOptions
    global.App = (opts) => {
      appOptions = opts
    }
    jest.isolateModules(() => require('../src/app.js'))
    appOptions.onLaunch()
    await eventually(() => expect(wx.setStorageSync).toHaveBeenCalledWith('gz_token', 'tok-1'))

    expect(wx.login).toHaveBeenCalledTimes(1)
    const logins = wx.__server.calls('POST', '/auth/login')
    expect(logins).toHaveLength(1)
    expect(logins[0].data).toEqual({ code: 'code-1' })
    expect(logins[0].header.Authorization).toBeUndefined()
    expect(wx.setStorageSync).toHaveBeenCalledWith('gz_token', 'tok-1')
    expect(wx.__storage.gz_user.nickname).toBe('王阿姨')
  })

  test('a kept token is sent as Bearer without logging in again', async () => {
    wx.__storage.gz_token = 'saved'
    await api.get('/me')
    expect(wx.login).not.toHaveBeenCalled()
    expect(wx.__server.calls('GET', '/me')[0].header.Authorization).toBe('Bearer saved')
  })

  test('an expired token is replaced by a new login before the request', async () => {
    wx.__storage.gz_token = 'old'
    wx.__storage.gz_token_expires = '2000-01-01T00:00:00+08:00'
    await api.get('/me')
    expect(wx.login).toHaveBeenCalledTimes(1)
    expect(wx.__server.calls('GET', '/me')[0].header.Authorization).toBe('Bearer tok-1')
  })

  test('a 401 triggers one new login and the request is retried once', async () => {
    wx.__storage.gz_token = 'stale'
    wx.__server.on('GET', '/me', (req) =>
      req.header.Authorization === 'Bearer stale' ? error(401, 'unauthorized', '登录已过期，请重新登录') : USER
    )
    const me = await api.get('/me')
    expect(me.nickname).toBe('王阿姨')
    expect(wx.login).toHaveBeenCalledTimes(1)
    const calls = wx.__server.calls('GET', '/me')
    expect(calls.map((c) => c.header.Authorization)).toEqual(['Bearer stale', 'Bearer tok-1'])
    expect(wx.__storage.gz_token).toBe('tok-1')
  })

  test('a second 401 is not retried again (no login loop)', async () => {
    wx.__server.on('GET', '/me', error(401, 'unauthorized', '登录已过期，请重新登录'))
    await expect(api.get('/me')).rejects.toMatchObject({ status: 401 })
    expect(wx.login).toHaveBeenCalledTimes(2) // 一次开始时登录，一次 401 后重新登录
    expect(wx.__server.calls('GET', '/me')).toHaveLength(2)
  })

  test('requests that hit 401 together share one new login', async () => {
    wx.__storage.gz_token = 'stale'
    const stale = (req) => req.header.Authorization === 'Bearer stale'
    wx.__server
      .on('GET', '/me', (req) => (stale(req) ? error(401, 'unauthorized', '请先登录') : USER))
      .on('GET', '/categories', (req) => (stale(req) ? error(401, 'unauthorized', '请先登录') : { items: CATEGORIES }))
    await Promise.all([api.get('/me'), api.get('/categories')])
    expect(wx.__server.calls('POST', '/auth/login')).toHaveLength(1)
  })

  test('in develop, a configured dev name logs in with dev:<name> instead of wx.login', async () => {
    config.devLoginName = 'zhang'
    await api.get('/me')
    expect(wx.login).not.toHaveBeenCalled()
    expect(wx.__server.calls('POST', '/auth/login')[0].data).toEqual({ code: 'dev:zhang' })
  })

  test('dev login is never used in a release build', async () => {
    config.devLoginName = 'zhang'
    global.wx = wx = createWx({ envVersion: 'release' })
    wx.request.mockImplementation((opts) => {
      opts.success({ statusCode: 200, data: opts.url.endsWith('/auth/login') ? { token: 't', user: {} } : {} })
    })
    await api.get('/me')
    expect(wx.login).toHaveBeenCalledTimes(1)
  })
})

describe('base URL', () => {
  test('develop talks to the local server', async () => {
    await api.get('/categories')
    expect(wx.__server.calls('GET', '/categories')[0].url).toBe('http://127.0.0.1:8000/api/v1/categories')
  })

  test('trial and release use the https hosts from config.js', () => {
    global.wx = createWx({ envVersion: 'trial' })
    expect(api.baseUrl()).toBe(config.hosts.trial + '/api/v1')
    global.wx = createWx({ envVersion: 'release' })
    expect(api.baseUrl()).toBe(config.hosts.release + '/api/v1')
    expect(config.hosts.release).toMatch(/^https:\/\//)
    expect(config.hosts.trial).toMatch(/^https:\/\//)
  })

  test('query strings are encoded and empty values left out', () => {
    expect(api.buildQuery({ scope: 'mine', status: '', cursor: null, q: '路 灯' })).toBe('?scope=mine&q=%E8%B7%AF%20%E7%81%AF')
  })

  test('a list repeats the key, as the server reads it (status=a&status=b)', () => {
    expect(api.buildQuery({ scope: 'unit', status: ['submitted', 'accepted'] })).toBe('?scope=unit&status=submitted&status=accepted')
  })

  test('photo paths from the server (/media/...) get the host; full URLs and local files are kept', () => {
    expect(api.mediaUrl('/media/2026/10/ab/photo1.jpg')).toBe('http://127.0.0.1:8000/media/2026/10/ab/photo1.jpg')
    expect(api.mediaUrl('https://cdn.example.cn/a.jpg')).toBe('https://cdn.example.cn/a.jpg')
    expect(api.mediaUrl('wxfile://tmp_1.jpg')).toBe('wxfile://tmp_1.jpg')
    expect(api.mediaUrl('')).toBe('')
    global.wx = createWx({ envVersion: 'release' })
    expect(api.mediaUrl('/media/x.jpg')).toBe(config.hosts.release + '/media/x.jpg')
  })
})

describe('idempotency and retry', () => {
  test('every POST carries a UUID v4 Idempotency-Key, a new one per call', async () => {
    wx.__server.on('POST', '/notifications/read-all', { unread: 0 })
    await api.post('/notifications/read-all')
    await api.post('/notifications/read-all')
    const keys = wx.__server.calls('POST', '/notifications/read-all').map((c) => c.header['Idempotency-Key'])
    expect(keys[0]).toMatch(UUID_V4)
    expect(keys[1]).toMatch(UUID_V4)
    expect(keys[0]).not.toBe(keys[1])
  })

  test('a network failure is retried with the SAME key', async () => {
    let n = 0
    wx.__server.on('POST', '/tickets', () => (++n < 3 ? NETWORK_FAIL : { status: 201, body: ticket({ id: 5, status: 'submitted', status_label: '待受理' }) }))
    const created = await api.post('/tickets', REPORT, { key: 'key-1' })
    expect(created.id).toBe(5)
    const calls = wx.__server.calls('POST', '/tickets')
    expect(calls).toHaveLength(3)
    calls.forEach((c) => expect(c.header['Idempotency-Key']).toBe('key-1'))
  })

  test('when the network stays down the error says so in Chinese', async () => {
    wx.__server.on('POST', '/tickets', NETWORK_FAIL)
    const err = await api.post('/tickets', REPORT, { key: 'k' }).catch((e) => e)
    expect(err.network).toBe(true)
    expect(wx.__server.calls('POST', '/tickets')).toHaveLength(1 + config.networkRetries)
    expect(api.messageFor(err)).toBe('网络不好，请稍后再试')
  })

  test('uploads go to /media as field "file" with their own key, retried with it', async () => {
    let n = 0
    wx.__server.on('POST', '/media', () => (++n === 1 ? NETWORK_FAIL : { status: 201, body: media(9, { width: 800, height: 600 }) }))
    const res = await api.upload('wxfile://a.jpg', { key: 'photo-key' })
    expect(res.id).toBe(9)
    const calls = wx.uploadFile.mock.calls.map((c) => c[0])
    expect(calls).toHaveLength(2)
    calls.forEach((c) => {
      expect(c.name).toBe('file')
      expect(c.filePath).toBe('wxfile://a.jpg')
      expect(c.header['Idempotency-Key']).toBe('photo-key')
      expect(c.header.Authorization).toBe('Bearer tok-1')
    })
  })
})

describe('gateway errors and weak networks', () => {
  test('a GET answered 502 then 503 is retried and succeeds', async () => {
    let n = 0
    wx.__server.on('GET', '/categories', () => {
      n += 1
      if (n === 1) return error(502, 'bad_gateway', '')
      if (n === 2) return error(503, 'service_unavailable', '服务器正忙，请稍后再试')
      return { items: CATEGORIES }
    })
    const res = await api.get('/categories')
    expect(res.items).toHaveLength(CATEGORIES.length)
    expect(wx.__server.calls('GET', '/categories')).toHaveLength(3)
  })

  test('a GET that stays 503 gives up after the configured retries', async () => {
    wx.__server.on('GET', '/categories', error(503, 'service_unavailable', '服务器正忙，请稍后再试'))
    const err = await api.get('/categories').catch((e) => e)
    expect(err.status).toBe(503)
    expect(wx.__server.calls('GET', '/categories')).toHaveLength(1 + config.networkRetries)
  })

  test('a POST answered 503 is not sent again by itself', async () => {
    wx.__server.on('POST', '/tickets', error(503, 'service_unavailable', '服务器正忙，请稍后再试'))
    const err = await api.post('/tickets', REPORT, { key: 'k' }).catch((e) => e)
    expect(err.status).toBe(503)
    expect(wx.__server.calls('POST', '/tickets')).toHaveLength(1)
  })

  test('a 404 on a GET is not retried', async () => {
    wx.__server.on('GET', '/tickets/:id', error(404, 'ticket_not_found', '没有找到这条反映'))
    await api.get('/tickets/3').catch(() => null)
    expect(wx.__server.calls('GET', '/tickets/3')).toHaveLength(1)
  })

  test('photo uploads get a long timeout for a weak 3G link, other requests a short one', async () => {
    await api.upload('wxfile://a.jpg', { key: 'k1' })
    await api.get('/categories')
    expect(wx.uploadFile.mock.calls[0][0].timeout).toBeGreaterThanOrEqual(60000)
    const getTimeout = wx.request.mock.calls.find((c) => /categories/.test(c[0].url))[0].timeout
    expect(getTimeout).toBeLessThan(wx.uploadFile.mock.calls[0][0].timeout)
  })
})

describe('errors become Chinese messages', () => {
  test('errors.detail from the server is shown as is', async () => {
    wx.__server.on('POST', '/tickets/1/accept', error(409, 'invalid_transition', '当前状态（已退回）不能进行此操作'))
    const err = await api.post('/tickets/1/accept', {}).catch((e) => e)
    expect(err.status).toBe(409)
    expect(err.key).toBe('invalid_transition')
    api.showError(err)
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '当前状态（已退回）不能进行此操作', icon: 'none' }))
  })

  test('a validation error from the server keeps its field messages', async () => {
    wx.__server.on('POST', '/tickets', error(422, 'validation_error', '填写的内容有误，请检查', { fields: { json: { lat: ['Missing data for required field.'] } } }))
    const err = await api.post('/tickets', REPORT).catch((e) => e)
    expect(err.status).toBe(422)
    expect(err.errors.fields.json.lat).toBeTruthy()
    expect(api.messageFor(err)).toBe('填写的内容有误，请检查')
  })

  test('without a detail (e.g. a gateway error page), the message key picks the text', () => {
    expect(api.messageFor({ status: 409, key: 'conflict' })).toMatch(/别人刚刚处理过/)
    expect(api.messageFor({ status: 403, key: 'not_staff' })).toBe('只有工作人员可以看这些')
  })

  test('a 409 on a page that refreshes says it refreshed only for "conflict"', () => {
    expect(api.refreshedMessage({ status: 409, key: 'conflict', detail: '内容已被他人修改，请刷新后重试' })).toBe('别人刚刚处理过这件事，已为您刷新，请再看一下')
    expect(api.refreshedMessage({ status: 409, key: 'invalid_transition', detail: '当前状态（已关闭）不能进行此操作' })).toBe('当前状态（已关闭）不能进行此操作')
  })

  test('without a known key, the HTTP status picks the text', () => {
    expect(api.messageFor({ status: 403, key: 'something_new' })).toBe('您没有权限做这件事')
    expect(api.messageFor({ status: 502 })).toBe('服务器正忙，请稍后再试')
    expect(api.messageFor({ status: 418 })).toBe('出了点问题，请稍后再试')
  })
})

test('intentKeys: one key per intent until it is done, then a new one', () => {
  const keys = api.intentKeys()
  const first = keys.key('cast-9-21')
  expect(keys.key('cast-9-21')).toBe(first)
  expect(keys.key('cast-9-22')).not.toBe(first)
  keys.done('cast-9-21')
  expect(keys.key('cast-9-21')).not.toBe(first)
  expect(first).toMatch(UUID_V4)
})
