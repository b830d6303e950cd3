// 与服务器打交道的唯一出口：地址、登录凭据、幂等键、重试、错误提示都在这里。
const config = require('../config')
const session = require('./session')
const uuid = require('./uuid')
const urls = require('./urls')

const NETWORK_MESSAGE = '网络不好，请稍后再试'
const FALLBACK_MESSAGE = '出了点问题，请稍后再试'

// 服务器的错误都带 errors.detail（一句中文），原样给人看；没有 detail 时（例如网关返回的错误页），
// 按 message 键、再按 HTTP 状态给一句中文。键取自服务器（server/errors.py 与各处 key="..."）。
const MESSAGES = {
  conflict: '别人刚刚处理过这件事，请刷新后再看',
  invalid_transition: '这件事现在不能这样处理，请刷新后再看',
  forbidden: '您没有权限做这件事',
  not_staff: '只有工作人员可以看这些',
  unit_out_of_scope: '这个单位不归您管',
  unauthorized: '登录已过期，请重新打开小程序',
  signed_out: '您已注销账号，需要使用时请在首页点“重新登录”',
  not_found: '没有找到这条内容',
  ticket_not_found: '没有找到这条反映',
  notification_not_found: '没有找到这条消息',
  bulletin_not_found: '没有找到这期通报',
  validation_error: '填写的内容有误，请检查一下',
  photo_required: '请至少拍一张照片',
  note_required: '请写一下办理结果',
  invalid_media: '照片没传好，请重新拍一张',
  file_required: '请选一张照片',
  payload_too_large: '照片太大了，请换一张',
  unsupported_media_type: '这种文件传不上去，请换一张照片',
  content_risky: '内容里有不合适的字词，请改一改',
  rate_limited: '操作太频繁了，请稍等一会儿',
  already_rated: '您已经评价过了',
  not_held: '这条反映已经审核过了',
  outside_all_units: '这个地方不在服务范围内',
  invalid_code: '登录没有成功，请稍后再试',
  login_failed: '登录没有成功，请稍后再试',
  service_unavailable: '服务器正忙，请稍后再试',
  database_unavailable: '服务器正忙，请稍后再试',
}

const STATUS_MESSAGES = {
  400: '填写的内容有误，请检查一下',
  401: '登录已过期，请重新打开小程序',
  403: '您没有权限做这件事',
  404: '没有找到这条内容',
  409: '这件事刚刚有了变化，请刷新后再看',
  413: '照片太大了，请换一张',
  415: '这种文件传不上去，请换一张照片',
  422: '填写的内容有误，请检查一下',
  429: '操作太频繁了，请稍等一会儿',
}

class ApiError extends Error {
  constructor({ status = 0, key = '', detail = '', errors = null, network = false } = {}) {
    super(key || (network ? 'network' : 'http_' + status))
    this.name = 'ApiError'
    this.status = status
    this.key = key
    this.detail = detail
    this.errors = errors
    this.network = network
  }
}

const envVersion = urls.envVersion
const baseUrl = urls.baseUrl

function buildQuery(query) {
  if (!query) return ''
  const parts = []
  Object.keys(query).forEach((k) => {
    // 数组按服务器的写法重复同一个键：status=a&status=b
    const values = Array.isArray(query[k]) ? query[k] : [query[k]]
    values.forEach((v) => {
      if (v === undefined || v === null || v === '') return
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)))
    })
  })
  return parts.length ? '?' + parts.join('&') : ''
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function parseBody(data) {
  if (typeof data !== 'string') return data
  try {
    return JSON.parse(data)
  } catch (e) {
    return data
  }
}

function errorFrom(statusCode, body) {
  const b = body && typeof body === 'object' ? body : {}
  let detail = ''
  if (b.errors && typeof b.errors === 'object' && typeof b.errors.detail === 'string') {
    detail = b.errors.detail
  }
  return new ApiError({
    status: statusCode,
    key: typeof b.message === 'string' ? b.message : '',
    detail,
    errors: b.errors || null,
  })
}

function messageFor(err) {
  if (!err) return FALLBACK_MESSAGE
  if (err.network) return NETWORK_MESSAGE
  if (err.detail) return err.detail
  if (err.key && MESSAGES[err.key]) return MESSAGES[err.key]
  if (STATUS_MESSAGES[err.status]) return STATUS_MESSAGES[err.status]
  if (err.status >= 500) return '服务器正忙，请稍后再试'
  return FALLBACK_MESSAGE
}

// 办理、评价遇到 409 时页面会自动刷新：conflict（别人先改过）就说已刷新，
// 其余（例如 invalid_transition）用服务器那句话
const REFRESHED_MESSAGE = '别人刚刚处理过这件事，已为您刷新，请再看一下'

function refreshedMessage(err) {
  return err && err.key === 'conflict' ? REFRESHED_MESSAGE : messageFor(err)
}

function showError(err) {
  wx.showToast({ title: messageFor(err), icon: 'none', duration: 3000 })
}

// —— 底层收发 ——

function sendRequest(options) {
  return new Promise((resolve, reject) => {
    wx.request({
      url: options.url,
      method: options.method,
      data: options.data,
      header: options.header,
      timeout: config.timeoutMs,
      success: (res) => resolve({ statusCode: res.statusCode, data: parseBody(res.data) }),
      fail: (res) => reject(new ApiError({ network: true, detail: '', key: '', errors: res || null })),
    })
  })
}

function sendUpload(options) {
  return new Promise((resolve, reject) => {
    wx.uploadFile({
      url: options.url,
      filePath: options.filePath,
      name: 'file',
      header: options.header,
      timeout: config.uploadTimeoutMs,
      success: (res) => resolve({ statusCode: res.statusCode, data: parseBody(res.data) }),
      fail: (res) => reject(new ApiError({ network: true, errors: res || null })),
    })
  })
}

// —— 登录 ——

let loginPromise = null

function wxLoginCode() {
  if (envVersion() === 'develop' && config.devLoginName) {
    return Promise.resolve('dev:' + config.devLoginName)
  }
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res && res.code ? resolve(res.code) : reject(new ApiError({ key: 'login_failed' }))),
      fail: () => reject(new ApiError({ key: 'login_failed' })),
    })
  })
}

// 同一时间只发一次登录；几个请求同时碰到 401 时共用这一次
function login() {
  if (loginPromise) return loginPromise
  loginPromise = wxLoginCode()
    .then((code) =>
      call({ method: 'POST', path: '/auth/login', data: { code }, auth: false, retry: true })
    )
    .then((result) => {
      if (!result || !result.token) throw new ApiError({ key: 'login_failed' })
      session.save(result)
      return result.token
    })
  const clear = () => {
    loginPromise = null
  }
  loginPromise.then(clear, clear)
  return loginPromise
}

// 注销账号后（session.isSignedOut()）不自动登录：那会悄悄建一个新账号。用户点“重新登录”时再登录。
function ensureLogin() {
  const token = session.getToken()
  if (token) return Promise.resolve(token)
  if (session.isSignedOut()) return Promise.reject(new ApiError({ status: 401, key: 'signed_out' }))
  return login()
}

function signIn() {
  session.clearSignedOut()
  return login()
}

// —— 请求主流程 ——
// options: method, path, query, data, auth(默认 true), key(Idempotency-Key), filePath(上传)
async function call(options) {
  const method = (options.method || 'GET').toUpperCase()
  const auth = options.auth !== false
  const key = options.key || ''
  // 只有不会造成重复的请求才自动重试：GET，或带着幂等键的写操作
  const retryable = options.retry === true || method === 'GET' || !!key
  // 网关暂时不可用（502/503/504）：只有 GET 再试，写操作交给用户决定
  const retryOnStatus = method === 'GET' && !options.filePath
  const url = baseUrl() + options.path + buildQuery(options.query)
  let reloggedIn = false
  let attempt = 0

  for (;;) {
    const header = {}
    if (!options.filePath) header['content-type'] = 'application/json'
    if (auth) header.Authorization = 'Bearer ' + (await ensureLogin())
    if (key) header['Idempotency-Key'] = key

    let res
    try {
      res = options.filePath
        ? await sendUpload({ url, filePath: options.filePath, header })
        : await sendRequest({ url, method, data: options.data, header })
    } catch (err) {
      if (err.network && retryable && attempt < config.networkRetries) {
        attempt += 1
        await delay(config.retryDelayMs * attempt)
        continue
      }
      throw err
    }

    if (res.statusCode === 401 && auth && !reloggedIn) {
      // 凭据失效：重新登录一次，再把这个请求原样发一次
      reloggedIn = true
      session.clearToken()
      await login()
      continue
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res.data
    if (retryOnStatus && config.retryStatuses.indexOf(res.statusCode) >= 0 && attempt < config.networkRetries) {
      attempt += 1
      await delay(config.retryDelayMs * attempt)
      continue
    }
    throw errorFrom(res.statusCode, res.data)
  }
}

function get(path, query) {
  return call({ method: 'GET', path, query })
}

// 写操作都带幂等键：调用方为“一次意图”传入 key，重试时传同一个；没传就为这一次调用新生成
function post(path, data, opts = {}) {
  return call({ method: 'POST', path, data: data || {}, key: opts.key || uuid() })
}

// 一次意图一个幂等键：同样的内容再发（例如断网后再点）用同一个键；做成了就丢掉，下次是新的意图
function intentKeys() {
  const keys = {}
  return {
    key(intent) {
      if (!keys[intent]) keys[intent] = uuid()
      return keys[intent]
    },
    done(intent) {
      delete keys[intent]
    },
  }
}

function upload(filePath, opts = {}) {
  return call({ method: 'POST', path: '/media', filePath, key: opts.key || uuid() })
}

module.exports = {
  ApiError,
  NETWORK_MESSAGE,
  envVersion,
  baseUrl,
  mediaUrl: urls.mediaUrl,
  buildQuery,
  messageFor,
  refreshedMessage,
  showError,
  login,
  ensureLogin,
  signIn,
  call,
  get,
  post,
  upload,
  newKey: uuid,
  intentKeys,
}
