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

function settle(agreed, buttonId) {
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
  openContract,
}
