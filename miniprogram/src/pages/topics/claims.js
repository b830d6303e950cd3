// 住址确认（网格员、干部）：居民登记的住址，确认后进投票的名册，或不通过。
const api = require('../../utils/api')
const session = require('../../utils/session')
const topics = require('../../utils/topics')

const REVIEWERS = ['grid_worker', 'cadre', 'unit_head', 'admin']

function unitsOf(user) {
  const seen = {}
  return session
    .posts(user)
    .filter((p) => REVIEWERS.indexOf(p.role) >= 0 && p.unit && !seen[p.unit.id] && (seen[p.unit.id] = true))
    .map((p) => ({ id: p.unit.id, name: p.unit.name }))
}

Component({
  data: {
    units: [],
    unitNames: [],
    unitIndex: 0,
    items: [],
    loading: false,
    error: '',
    notReviewer: false,
    busyId: null,
  },

  lifetimes: {
    created() {
      this._keys = api.intentKeys()
    },
  },

  methods: {
    onLoad() {
      // 岗位以服务器为准（本机存的可能是旧的）
      return api
        .get('/me')
        .then((me) => session.setUser(me))
        .catch(() => null)
        .then(() => {
          const units = unitsOf()
          this.setData({ units, unitNames: units.map((u) => u.name), notReviewer: !units.length })
          return units.length ? this.reload() : null
        })
    },

    onPullDownRefresh() {
      return this.reload().then(() => wx.stopPullDownRefresh())
    },

    onRetry() {
      return this.reload()
    },

    onPickUnit(e) {
      this.setData({ unitIndex: Number(e.detail.value) })
      return this.reload()
    },

    reload() {
      const unit = this.data.units[this.data.unitIndex]
      if (!unit) return Promise.resolve()
      this.setData({ loading: true, error: '' })
      return api
        .get('/roll/claims', { unit_id: unit.id })
        .then((res) => this.setData({ loading: false, items: (res.items || []).map(topics.rollView) }))
        .catch((err) => this.setData({ loading: false, error: api.messageFor(err) }))
    },

    review(e, confirm) {
      const id = Number(e.currentTarget.dataset.id)
      const item = this.data.items.find((x) => x.id === id)
      if (!item || this.data.busyId) return Promise.resolve()
      const intent = `${id}-${confirm}`
      this.setData({ busyId: id })
      return api
        .post(`/roll/entries/${id}/review`, { confirm, version: item.version }, { key: this._keys.key(intent) })
        .then(() => {
          this._keys.done(intent)
          this.setData({ busyId: null, items: this.data.items.filter((x) => x.id !== id) })
          wx.showToast({ title: confirm ? '已确认' : '已设为不通过', icon: 'none' })
        })
        .catch((err) => {
          this.setData({ busyId: null })
          if (err && err.status === 409) {
            wx.showToast({ title: api.refreshedMessage(err), icon: 'none', duration: 3000 })
            return this.reload()
          }
          topics.showRefusal(err)
          return null
        })
    },

    onConfirm(e) {
      return this.review(e, true)
    },

    onReject(e) {
      return this.review(e, false)
    },
  },
})
