// One shared location fix (gcj02) with the time it was taken. Pages ask for it when they
// need it, never at launch. Kept in memory only: a location trail is sensitive data.
const config = require('../config')

let fix = null
let pending = null

// A fix no older than maxAgeMs, or null
function recent(maxAgeMs) {
  const age = maxAgeMs === undefined ? config.locationMaxAgeMs : maxAgeMs
  return fix && Date.now() - fix.at <= age ? fix : null
}

// The phone's own location switch is off: WeChat's settings page cannot help
function isSystemOff(res) {
  return /system permission|locationswitchoff|location.?service/i.test((res && res.errMsg) || '')
}

// The resident refused WeChat's location permission
function isDenied(res) {
  return !isSystemOff(res) && /auth|deny|denied/i.test((res && res.errMsg) || '')
}

// Promise<fix>; rejects with {denied, systemOff} when the user refused location or the phone has it off.
// Concurrent callers share one wx.getLocation.
function locate(options = {}) {
  const fresh = options.force ? null : recent(options.maxAgeMs)
  if (fresh) return Promise.resolve(fresh)
  if (pending) return pending
  pending = new Promise((resolve, reject) => {
    wx.getLocation({
      type: 'gcj02',
      success: (res) => {
        fix = { lat: res.latitude, lng: res.longitude, accuracy: res.accuracy || 0, at: Date.now() }
        resolve(fix)
      },
      fail: (res) => reject({ denied: isDenied(res), systemOff: isSystemOff(res), errMsg: (res && res.errMsg) || '' }),
    })
  })
  const clear = () => {
    pending = null
  }
  pending.then(clear, clear)
  return pending
}

// Opens WeChat's settings page; resolves true if location is allowed afterwards
function openSettings() {
  return new Promise((resolve) => {
    wx.openSetting({
      success: (res) => resolve(!!(res && res.authSetting && res.authSetting['scope.userLocation'])),
      fail: () => resolve(false),
    })
  })
}

function reset() {
  fix = null
  pending = null
}

module.exports = { locate, recent, openSettings, reset }
