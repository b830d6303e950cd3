// Unsent forms kept in wx storage so a dropped page (camera open, call, low memory) loses nothing.
const config = require('../config')

const PREFIX = 'gz_draft_'

function load(name) {
  let saved = null
  try {
    saved = wx.getStorageSync(PREFIX + name)
  } catch (e) {
    return null
  }
  if (!saved || typeof saved !== 'object' || !saved.data) return null
  if (!saved.at || Date.now() - saved.at > config.draftMaxAgeMs) {
    clear(name)
    return null
  }
  return saved.data
}

function save(name, data) {
  try {
    wx.setStorageSync(PREFIX + name, { at: Date.now(), data })
  } catch (e) {
    // storage full: the form still works, only the safety net is gone
  }
}

function clear(name) {
  try {
    wx.removeStorageSync(PREFIX + name)
  } catch (e) {
    // ignore
  }
}

module.exports = { load, save, clear, PREFIX }
