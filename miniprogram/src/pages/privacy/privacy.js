// 我的数据与隐私：同意过的隐私保护指引、导出我的数据、注销账号。
const api = require('../../utils/api')
const session = require('../../utils/session')
const format = require('../../utils/format')
const privacy = require('../../utils/privacy')

const EXPORT_FILE = 'gongzhi-export.json'

function count(list) {
  return Array.isArray(list) ? list.length : 0
}

// GET /me/consent → 界面上的一句话
function consentView(c) {
  const version = (c && (c.policy_version || c.current_version)) || ''
  const current = (c && c.current_version) || version
  if (c && c.consented) {
    return {
      consented: true,
      text: `您已同意《用户隐私保护指引》（${version}版）`,
      time: c.accepted_at ? format.dateTime(c.accepted_at) : '',
    }
  }
  return {
    consented: false,
    text: `您还没有同意当前的《用户隐私保护指引》（${current}版）。第一次反映问题时会请您阅读并同意。`,
    time: '',
  }
}

// 导出的内容 → 摘要（只在界面上显示数目，完整内容留在内存里，不存进本机缓存）
function summaryOf(data) {
  const d = data && typeof data === 'object' ? data : {}
  const consents = Array.isArray(d.consents) ? d.consents : []
  return {
    exportedText: format.dateTime(d.exported_at),
    tickets: count(d.tickets),
    ratings: count(d.ratings),
    photos: count(d.photos),
    supports: count(d.supports),
    notifications: count(d.notifications),
    consents: consents.map((c) => ({
      version: c.policy_version || '',
      time: format.dateTime(c.accepted_at),
    })),
  }
}

// 复制用的文字：照片只有地址（每张照片要用时再打开），整份数据都放得进剪贴板
function exportText(data) {
  return JSON.stringify(data, null, 2)
}

function exportPath() {
  if (!wx.env || !wx.env.USER_DATA_PATH) return ''
  return `${wx.env.USER_DATA_PATH}/${EXPORT_FILE}`
}

function removeExportFile() {
  const file = exportPath()
  if (!file || typeof wx.getFileSystemManager !== 'function') return
  try {
    wx.getFileSystemManager().unlinkSync(file)
  } catch (e) {
    // 没有这个文件
  }
}

Component({
  data: {
    consentLoading: true,
    consentError: '',
    consent: null,
    exporting: false,
    exportError: '',
    summary: null,
    deleteStep: 0,
    deleting: false,
    deleteError: '',
  },

  lifetimes: {
    created() {
      this._export = null
    },
  },

  methods: {
    onLoad() {
      return this.loadConsent()
    },

    onUnload() {
      // 导出的内容只在这一页用
      this._export = null
      removeExportFile()
    },

    onRetry() {
      return this.loadConsent()
    },

    loadConsent() {
      this.setData({ consentLoading: true, consentError: '' })
      return api
        .get('/me/consent')
        .then((c) => this.setData({ consentLoading: false, consent: consentView(c) }))
        .catch((err) => this.setData({ consentLoading: false, consentError: api.messageFor(err) }))
    },

    onOpenPolicy() {
      privacy.openContract()
    },

    // —— 导出 ——
    onExport() {
      if (this.data.exporting) return Promise.resolve()
      this.setData({ exporting: true, exportError: '' })
      return api
        .get('/me/export')
        .then((data) => {
          this._export = data && typeof data === 'object' ? data : {}
          this.setData({ exporting: false, summary: summaryOf(this._export) })
        })
        .catch((err) => {
          this.setData({ exporting: false, exportError: api.messageFor(err) })
          api.showError(err)
        })
    },

    onCopy() {
      if (!this._export) return
      wx.setClipboardData({
        data: exportText(this._export),
        success: () => wx.showToast({ title: '已复制，可以粘贴到别处', icon: 'none', duration: 3000 }),
        fail: () => wx.showToast({ title: '没能复制，请用“发送文件”', icon: 'none', duration: 3000 }),
      })
    },

    // 小程序不能把文件直接存进手机：写一个临时文件，发到微信聊天（例如“文件传输助手”）里保存
    onShareFile() {
      if (!this._export) return
      const file = exportPath()
      if (!file || typeof wx.getFileSystemManager !== 'function' || typeof wx.shareFileMessage !== 'function') {
        wx.showToast({ title: '这个微信版本不能发送文件，请用“复制文字”', icon: 'none', duration: 3000 })
        return
      }
      try {
        wx.getFileSystemManager().writeFileSync(file, JSON.stringify(this._export, null, 2), 'utf8')
      } catch (e) {
        wx.showToast({ title: '手机空间不够，没能生成文件', icon: 'none', duration: 3000 })
        return
      }
      wx.shareFileMessage({
        filePath: file,
        fileName: `共治-我的数据-${format.isoDay(this._export.exported_at || new Date())}.json`,
        complete: () => removeExportFile(),
      })
    },

    // —— 注销账号：先在页面上说明（第一次确认），再弹窗（第二次确认），才发出请求 ——
    onDeleteStart() {
      this.setData({ deleteStep: 1, deleteError: '' })
    },

    onDeleteCancel() {
      this.setData({ deleteStep: 0, deleteError: '' })
    },

    onDeleteConfirm() {
      if (this.data.deleting) return
      wx.showModal({
        title: '最后确认',
        content: '注销后不能恢复，也不能再看“我的反映”和消息。确定注销账号吗？',
        confirmText: '确定注销',
        confirmColor: '#b3261e',
        cancelText: '不注销',
        success: (res) => {
          if (res && res.confirm) this.deleteAccount()
        },
      })
    },

    deleteAccount() {
      if (this.data.deleting) return Promise.resolve()
      this.setData({ deleting: true, deleteError: '' })
      // 不自动重试：断网时不知道服务器有没有收到，让用户看到提示后自己再点
      return api
        .call({ method: 'DELETE', path: '/me' })
        .then(() => {
          this._export = null
          removeExportFile()
          session.clearAll()
          session.markSignedOut()
          this.setData({ deleting: false })
          wx.reLaunch({ url: '/pages/index/index' })
        })
        .catch((err) => {
          // 没注销成功：本机的登录不动，用户还能再试
          this.setData({ deleting: false, deleteError: api.messageFor(err) })
          api.showError(err)
        })
    },
  },
})
