// 隐私保护指引：用位置、照片之前先确认用户已同意。
let pendingResolve = null
let listener = null

function needsAuthorization() {
  return new Promise((resolve) => {
    if (typeof wx.getPrivacySetting !== 'function') {
      resolve(false)
      return
    }
    wx.getPrivacySetting({
      success: (res) => resolve(!!(res && res.needAuthorization)),
      fail: () => resolve(false),
    })
  })
}

// 微信在调用隐私接口前发现还没同意时会通知这里（app.js 里登记）
function handleNeed(resolve) {
  pendingResolve = resolve
  if (listener) listener()
}

function setListener(fn) {
  listener = fn
}

function clearListener(fn) {
  if (listener === fn) listener = null
}

// True once the resident tapped 同意 on the gate in this run of the mini-program: the gate
// names the same 《用户隐私保护指引》 the server asks consent for (see README launch checklist).
let agreedInGate = false

function hasAgreedInGate() {
  return agreedInGate
}

function settle(agreed, buttonId) {
  if (agreed) agreedInGate = true
  const resolve = pendingResolve
  pendingResolve = null
  if (resolve) resolve(agreed ? { event: 'agree', buttonId } : { event: 'disagree' })
}

function openContract() {
  if (typeof wx.openPrivacyContract === 'function') wx.openPrivacyContract({})
}

module.exports = {
  needsAuthorization,
  handleNeed,
  setListener,
  clearListener,
  settle,
  hasAgreedInGate,
  // tests only: a fresh run of the mini-program
  reset() {
    agreedInGate = false
    pendingResolve = null
  },
  openContract,
}
