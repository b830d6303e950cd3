// Update check on launch: when WeChat has downloaded a new version, offer to restart into it.
// A half-written report is safe: the form keeps a draft (utils/draft).
function check() {
  if (typeof wx.getUpdateManager !== 'function') return null
  const manager = wx.getUpdateManager()
  manager.onUpdateReady(() => {
    wx.showModal({
      title: '有新版本',
      content: '新版本已经准备好，重新打开就能用。没写完的反映会保留。现在重新打开吗？',
      confirmText: '重新打开',
      cancelText: '等一会',
      success: (res) => {
        if (res.confirm) manager.applyUpdate()
      },
    })
  })
  // Download failed (weak network): the next launch tries again
  manager.onUpdateFailed(() => {})
  return manager
}

module.exports = { check }
