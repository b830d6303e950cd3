// 登录凭据与当前用户，存在本机缓存里。
const TOKEN_KEY = 'gz_token'
const EXPIRES_KEY = 'gz_token_expires'
const USER_KEY = 'gz_user'

function read(key) {
  try {
    return wx.getStorageSync(key)
  } catch (e) {
    return ''
  }
}

function write(key, value) {
  try {
    wx.setStorageSync(key, value)
  } catch (e) {
    // 存不进去也不影响这一次使用
  }
}

function remove(key) {
  try {
    wx.removeStorageSync(key)
  } catch (e) {
    // 忽略
  }
}

// 快过期（1 分钟内）的凭据当作没有，免得请求发出去才被拒
function getToken() {
  const token = read(TOKEN_KEY)
  if (!token) return ''
  const expires = read(EXPIRES_KEY)
  if (expires) {
    const at = Date.parse(expires)
    if (!isNaN(at) && at - Date.now() < 60 * 1000) return ''
  }
  return token
}

function save(result) {
  write(TOKEN_KEY, result.token)
  write(EXPIRES_KEY, result.expires_at || '')
  if (result.user) write(USER_KEY, result.user)
}

function clearToken() {
  remove(TOKEN_KEY)
  remove(EXPIRES_KEY)
}

// 注销账号之后：本机的凭据和缓存都清掉；这次打开小程序期间不再自动登录（不然马上又建一个新账号），
// 直到用户在首页点“重新登录”。标记只在内存里：下次打开小程序照常“打开即登录”。
let signedOut = false

function clearAll() {
  clearToken()
  remove(USER_KEY)
  try {
    if (typeof wx.clearStorageSync === 'function') wx.clearStorageSync()
  } catch (e) {
    // 清不掉的已在上面逐个删过
  }
}

function markSignedOut() {
  signedOut = true
}

function clearSignedOut() {
  signedOut = false
}

function isSignedOut() {
  return signedOut
}

function getUser() {
  const u = read(USER_KEY)
  return u && typeof u === 'object' ? u : null
}

function setUser(user) {
  if (user) write(USER_KEY, user)
}

function posts(user) {
  const u = user || getUser()
  return (u && Array.isArray(u.posts) && u.posts) || []
}

function roles(user) {
  return posts(user).map((p) => p.role)
}

function isStaff(user) {
  return posts(user).length > 0
}

function hasRole(role, user) {
  return roles(user).indexOf(role) >= 0
}

module.exports = {
  getToken,
  save,
  clearToken,
  clearAll,
  markSignedOut,
  clearSignedOut,
  isSignedOut,
  getUser,
  setUser,
  posts,
  roles,
  isStaff,
  hasRole,
}
