// 工作人员办理一条反映：退回、派单、写进展、办结答复、提为议题、转给其他单位。
const api = require('../../utils/api')
const format = require('../../utils/format')
const labels = require('../../utils/labels')
const privacyBehavior = require('../../behaviors/privacy')
const photosBehavior = require('../../behaviors/photos')

const TITLES = {
  return: '退回',
  assign: '派单',
  progress: '写进展',
  resolve: '办结答复',
  propose: '提为议题',
  transfer: '转给其他单位',
}

const NOTE_HINTS = {
  return: '跟反映人说明一下（选填）',
  assign: '给办理人的交代（选填）',
  progress: '现在办到哪一步了',
  resolve: '怎么解决的，结果如何',
  propose: '为什么要提为议题，建议怎么办',
  transfer: '为什么转给这个单位',
}

const MAX_UNIT_PAGES = 5

const MAX_NOTE = 2000

Component({
  behaviors: [privacyBehavior, photosBehavior],

  data: {
    action: '',
    title: '',
    noteHint: '',
    ticket: null,
    loading: true,
    loadError: '',
    reasons: labels.RETURN_REASONS,
    reason: '',
    duplicateOf: '',
    units: [],
    unitIndex: -1,
    staff: [],
    assigneeId: '',
    dueDate: '',
    today: '',
    priorities: labels.PRIORITIES,
    priority: 'normal',
    note: '',
    maxNote: MAX_NOTE,
    showPhotos: false,
    photosRequired: false,
    submitting: false,
    error: '',
  },

  lifetimes: {
    created() {
      this._key = ''
      this._fingerprint = ''
    },
  },

  methods: {
    onLoad(query) {
      const action = (query && query.action) || ''
      this._id = query && query.id
      this.setData({
        action,
        title: TITLES[action] || '办理',
        noteHint: NOTE_HINTS[action] || '',
        showPhotos: action === 'progress' || action === 'resolve',
        photosRequired: action === 'resolve',
        today: format.isoDay(),
      })
      wx.setNavigationBarTitle({ title: TITLES[action] || '办理' })
      return this.load()
    },

    onRetry() {
      this.setData({ loading: true, loadError: '' })
      return this.load()
    },

    load() {
      return api
        .get(`/tickets/${this._id}`)
        .then((t) => {
          this._ticket = t
          const reasons = labels.returnReasonsFor(t.status)
          this.setData({
            ticket: format.ticketView(t),
            reasons,
            // 议题只有一个原因可选，直接选上
            reason: reasons.length === 1 ? reasons[0].value : this.data.reason,
            loading: false,
            loadError: '',
          })
          if (this.data.action === 'assign' && t.unit) return this.loadStaff(t.unit.id)
          if (this.data.action === 'transfer') return this.loadUnits()
          return null
        })
        .catch((err) => this.setData({ loading: false, loadError: api.messageFor(err) }))
    },

    loadStaff(unitId) {
      return api
        .get(`/units/${unitId}/staff`)
        .then((res) => {
          const own = this._ticket && this._ticket.unit ? this._ticket.unit.id : null
          const staff = ((res && res.items) || []).map((s) => ({
            id: s.id,
            name: s.display || '',
            role: s.role_label || labels.roleLabel(s.role),
            // 下级单位的人标上单位名
            unitName: s.unit && s.unit.id !== own ? s.unit.name : '',
          }))
          this.setData({ staff })
        })
        .catch((err) => api.showError(err))
    },

    // 转给哪个单位：全部单位（分页取），去掉现在的单位
    loadUnits() {
      const own = this._ticket && this._ticket.unit ? this._ticket.unit.id : null
      const all = []
      const page = (cursor, n) =>
        api.get('/units', { limit: 200, cursor }).then((res) => {
          ;((res && res.items) || []).forEach((u) => all.push(u))
          if (res && res.next_cursor && n + 1 < MAX_UNIT_PAGES) return page(res.next_cursor, n + 1)
          return null
        })
      return page('', 0)
        .then(() => {
          const units = all.filter((u) => u.id !== own).map((u) => ({ id: u.id, name: u.name }))
          this.setData({ units, unitIndex: -1 })
        })
        .catch((err) => api.showError(err))
    },

    onPickUnit(e) {
      this.setData({ unitIndex: Number(e.detail.value), error: '' })
    },

    onPickReason(e) {
      this.setData({ reason: e.currentTarget.dataset.value, error: '' })
    },

    onDuplicateInput(e) {
      this.setData({ duplicateOf: (e.detail.value || '').trim() })
    },

    onPickAssignee(e) {
      this.setData({ assigneeId: Number(e.currentTarget.dataset.id), error: '' })
    },

    onPickPriority(e) {
      this.setData({ priority: e.currentTarget.dataset.value })
    },

    onDueChange(e) {
      this.setData({ dueDate: e.detail.value })
    },

    onNoteInput(e) {
      this.setData({ note: e.detail.value || '' })
    },

    validate() {
      const d = this.data
      const note = d.note.trim()
      if (note.length > MAX_NOTE) return `说明不能超过${MAX_NOTE}个字`
      switch (d.action) {
        case 'return':
          if (!d.reason) return '请选择退回的原因'
          if (d.reason === 'duplicate' && !d.duplicateOf) return '请填写重复的那条反映的编号'
          if (d.reason === 'duplicate' && !/^[1-9]\d*$/.test(d.duplicateOf)) return '编号只能是数字，例如 12'
          if (d.reason === 'needs_info' && !note) return '请写明需要反映人补充什么'
          if (d.reason === 'not_adopted' && !note) return '不予采纳要写明理由，会公开给反映人'
          return ''
        case 'transfer':
          if (d.unitIndex < 0 || !d.units[d.unitIndex]) return '请选择转给哪个单位'
          if (!note) return '请写一下为什么转给这个单位'
          return ''
        case 'assign':
          if (!d.assigneeId) return '请选择办理人'
          return ''
        case 'progress':
          if (!note) return '请写一下现在的进展'
          return ''
        case 'resolve':
          if (!note) return '请写一下是怎么解决的'
          if (!d.photos.length) return '请至少拍一张办理结果的照片'
          return ''
        case 'propose':
          if (!note) return '请写一下为什么要提为议题'
          return ''
        default:
          return '不支持这个操作'
      }
    },

    body(mediaIds) {
      const d = this.data
      const note = d.note.trim()
      switch (d.action) {
        case 'return': {
          const body = { reason: d.reason, note }
          // 服务器要的是整数编号；不是重复就不带这个字段（不能是 null）
          if (d.reason === 'duplicate') body.duplicate_of = Number(d.duplicateOf)
          return body
        }
        case 'transfer':
          return { unit_id: d.units[d.unitIndex].id, reason: note }
        case 'assign': {
          // 不带 unit_id：服务器默认派在本单位
          const body = {
            assignee_id: Number(d.assigneeId),
            priority: d.priority,
            note,
          }
          // 期限取所选那天的 23:59（北京时间）
          if (d.dueDate) body.due_at = `${d.dueDate}T23:59:00+08:00`
          return body
        }
        case 'progress':
          return { note, media: mediaIds }
        case 'resolve':
          return { note, media: mediaIds }
        default:
          return { note }
      }
    },

    fail(message) {
      this.setData({ error: message })
      wx.showToast({ title: message, icon: 'none', duration: 3000 })
    },

    onSubmit() {
      if (this.data.submitting || !this._ticket) return Promise.resolve()
      const problem = this.validate()
      if (problem) {
        this.fail(problem)
        return Promise.resolve()
      }
      this.setData({ submitting: true, error: '' })
      const action = this.data.action
      const uploads = this.data.showPhotos ? this.uploadAllPhotos() : Promise.resolve([])
      return uploads
        .then((mediaIds) => {
          const body = Object.assign(this.body(mediaIds), { version: this._ticket.version })
          const fingerprint = JSON.stringify(body)
          if (!this._key || this._fingerprint !== fingerprint) {
            this._key = api.newKey()
            this._fingerprint = fingerprint
          }
          return api.post(`/tickets/${this._ticket.id}/${action}`, body, { key: this._key })
        })
        .then((ticket) => {
          this._key = ''
          this._fingerprint = ''
          this._ticket = ticket
          this.setData({ submitting: false })
          wx.showToast({ title: '已提交', icon: 'success' })
          setTimeout(() => wx.navigateBack({ delta: 1 }), 800)
        })
        .catch((err) => {
          // 别人先处理过（409）：取最新的版本再让用户决定
          if (err && err.status === 409) {
            const message = api.refreshedMessage(err)
            this.setData({ submitting: false, error: message })
            wx.showToast({ title: message, icon: 'none', duration: 3000 })
            this.load()
            return
          }
          this.setData({ submitting: false, error: api.messageFor(err) })
          api.showError(err)
        })
    },
  },
})
