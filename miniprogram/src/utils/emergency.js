// Categories that may be an emergency (fire, gas, a live wire): the number to call comes first.
// The list lives in config.js (emergencies).
const config = require('../config')

function find(category) {
  if (!category) return null
  const code = String(category.code || '').toLowerCase()
  const icon = String(category.icon || '').toLowerCase()
  const name = String(category.name || '')
  const hit = config.emergencies.find(
    (e) =>
      e.codes.indexOf(code) >= 0 ||
      (icon && e.icons.indexOf(icon) >= 0) ||
      e.words.some((w) => name.indexOf(w) >= 0)
  )
  return hit ? { number: hit.number, title: hit.title, advice: hit.advice } : null
}

function call(number) {
  wx.makePhoneCall({ phoneNumber: number, fail: () => {} })
}

module.exports = { find, call }
