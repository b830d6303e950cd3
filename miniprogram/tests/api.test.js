// 登录与 API 模块：凭据、401 重新登录、断网重试沿用同一个幂等键、错误变成中文提示。
const { createWx, NETWORK_FAIL } = require('./helpers/wx')
const config = require('../src/config')
const api = require('../src/utils/api')

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
    await new Promise((r) => setTimeout(r, 20))

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
      req.header.Authorization === 'Bearer stale'
        ? { status: 401, body: { code: 401, status: 'Unauthorized', message: 'invalid_token', errors: {} } }
        : { id: 'u1', nickname: '王阿姨', posts: [] }
    )
    const me = await api.get('/me')
    expect(me.nickname).toBe('王阿姨')
    expect(wx.login).toHaveBeenCalledTimes(1)
    const calls = wx.__server.calls('GET', '/me')
    expect(calls.map((c) => c.header.Authorization)).toEqual(['Bearer stale', 'Bearer tok-1'])
    expect(wx.__storage.gz_token).toBe('tok-1')
  })

  test('a second 401 is not retried again (no login loop)', async () => {
    wx.__server.on('GET', '/me', { status: 401, body: { code: 401, message: 'invalid_token', errors: {} } })
    await expect(api.get('/me')).rejects.toMatchObject({ status: 401 })
    expect(wx.login).toHaveBeenCalledTimes(2) // 一次开始时登录，一次 401 后重新登录
    expect(wx.__server.calls('GET', '/me')).toHaveLength(2)
  })

  test('requests that hit 401 together share one new login', async () => {
    wx.__storage.gz_token = 'stale'
    const handler = (req) =>
      req.header.Authorization === 'Bearer stale' ? { status: 401, body: { message: 'invalid_token' } } : { ok: true }
    wx.__server.on('GET', '/a', handler).on('GET', '/b', handler)
    await Promise.all([api.get('/a'), api.get('/b')])
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
})

describe('idempotency and retry', () => {
  test('every POST carries a UUID v4 Idempotency-Key, a new one per call', async () => {
    wx.__server.on('POST', '/x', { ok: true })
    await api.post('/x', {})
    await api.post('/x', {})
    const keys = wx.__server.calls('POST', '/x').map((c) => c.header['Idempotency-Key'])
    expect(keys[0]).toMatch(UUID_V4)
    expect(keys[1]).toMatch(UUID_V4)
    expect(keys[0]).not.toBe(keys[1])
  })

  test('a network failure is retried with the SAME key', async () => {
    let n = 0
    wx.__server.on('POST', '/tickets', () => (++n < 3 ? NETWORK_FAIL : { status: 201, body: { id: 't1' } }))
    const ticket = await api.post('/tickets', { a: 1 }, { key: 'key-1' })
    expect(ticket.id).toBe('t1')
    const calls = wx.__server.calls('POST', '/tickets')
    expect(calls).toHaveLength(3)
    calls.forEach((c) => expect(c.header['Idempotency-Key']).toBe('key-1'))
  })

  test('when the network stays down the error says so in Chinese', async () => {
    wx.__server.on('POST', '/tickets', NETWORK_FAIL)
    const err = await api.post('/tickets', {}, { key: 'k' }).catch((e) => e)
    expect(err.network).toBe(true)
    expect(wx.__server.calls('POST', '/tickets')).toHaveLength(1 + config.networkRetries)
    expect(api.messageFor(err)).toBe('网络不好，请稍后再试')
  })

  test('uploads go to /media as field "file" with their own key, retried with it', async () => {
    let n = 0
    wx.__server.on('POST', '/media', () => (++n === 1 ? NETWORK_FAIL : { status: 201, body: { id: 'm9', url: 'u', thumbnail_url: 't' } }))
    const res = await api.upload('wxfile://a.jpg', { key: 'photo-key' })
    expect(res.id).toBe('m9')
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

describe('errors become Chinese messages', () => {
  test('errors.detail from the server is shown as is', async () => {
    wx.__server.on('POST', '/tickets/t1/accept', {
      status: 409,
      body: { code: 409, status: 'Conflict', message: 'invalid_transition', errors: { detail: '这件事已经被退回了' } },
    })
    const err = await api.post('/tickets/t1/accept', {}).catch((e) => e)
    expect(err.status).toBe(409)
    expect(err.key).toBe('invalid_transition')
    api.showError(err)
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '这件事已经被退回了', icon: 'none' }))
  })

  test('without a detail, the message key picks the text', () => {
    expect(api.messageFor({ status: 409, key: 'conflict' })).toMatch(/别人刚刚处理过/)
  })

  test('without a known key, the HTTP status picks the text', () => {
    expect(api.messageFor({ status: 403, key: 'something_new' })).toBe('您没有权限做这件事')
    expect(api.messageFor({ status: 502 })).toBe('服务器正忙，请稍后再试')
    expect(api.messageFor({ status: 418 })).toBe('出了点问题，请稍后再试')
  })
})
