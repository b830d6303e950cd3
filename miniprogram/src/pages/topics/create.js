// 提出议题（干部、单位负责人、人大代表）：写题目和说明，存为草拟；附近反复反映的同类问题（热点）可一键带入。
const api = require('../../utils/api')
const topics = require('../../utils/topics')

Component({
  data: {
    unit: null,
    title: '',
    body: '',
    formError: '',
    sending: false,
    hotspots: [],
  },

  lifetimes: {
    created() {
      this._keys = api.intentKeys()
    },
  },

  methods: {
    onLoad(query) {
      const id = Number(query && query.unit_id)
      const seen = topics.getUnit()
      const unit = id ? { id, name: seen && seen.id === id ? seen.name : '' } : seen
      this.setData({ unit })
      return unit ? this.loadHotspots() : Promise.resolve()
    },

    // 热点只是建议：取不到（例如没有权限）就不显示
    loadHotspots() {
      return api
        .get('/topics/hotspots', { unit_id: this.data.unit.id })
        .then((res) => {
          const hotspots = (res.items || []).map((h, i) => ({
            key: i,
            category: h.category,
            count: h.tickets.length,
            tickets: h.tickets,
            ticketsText: h.tickets.map((t) => `${t}号`).join('、'),
          }))
          this.setData({ hotspots })
        })
        .catch(() => this.setData({ hotspots: [] }))
    },

    onUseHotspot(e) {
      const h = this.data.hotspots[Number(e.currentTarget.dataset.index)]
      if (!h) return
      this.setData({
        title: `${h.category}：同一处反复反映（${h.count}件）`,
        body: `90天内附近有${h.count}件同类反映：${h.ticketsText}。`,
        formError: '',
      })
    },

    onOpenTicket(e) {
      wx.navigateTo({ url: `/pages/ticket/ticket?id=${e.currentTarget.dataset.id}` })
    },

    onTitleInput(e) {
      this.setData({ title: e.detail.value, formError: '' })
    },

    onBodyInput(e) {
      this.setData({ body: e.detail.value })
    },

    onSubmit() {
      if (this.data.sending || !this.data.unit) return Promise.resolve()
      const title = (this.data.title || '').trim()
      if (!title) {
        this.setData({ formError: '请写上议题的题目' })
        return Promise.resolve()
      }
      const data = { unit_id: this.data.unit.id, title, body: (this.data.body || '').trim() }
      // 同样的内容再点用同一个键
      const intent = JSON.stringify(data)
      this.setData({ sending: true, formError: '' })
      return api
        .post('/topics', data, { key: this._keys.key(intent) })
        .then((t) => {
          this._keys.done(intent)
          this.setData({ sending: false })
          wx.showToast({ title: '议题已草拟', icon: 'success' })
          wx.redirectTo({ url: `/pages/topics/topic?id=${t.id}` })
        })
        .catch((err) => this.setData({ sending: false, formError: topics.refusal(err) }))
    },
  },
})
