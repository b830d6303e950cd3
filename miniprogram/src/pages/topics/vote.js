// 一次投票：先看规则（选项、时间、有效人数、通过线、按人或按户），再投（只选一个，截止前可以改），
// 结束后看结果（通过与否、投票率；票数只在服务器给时显示）。不显示谁投了票。
const api = require('../../utils/api')
const topics = require('../../utils/topics')
const reloadBehavior = require('../../behaviors/reload')

Component({
  behaviors: [reloadBehavior],
  data: {
    vote: null,
    choice: null,
    loading: false,
    error: '',
    casting: false,
    castError: '',
    needHome: false,
  },

  lifetimes: {
    created() {
      this._id = null
      this._keys = api.intentKeys()
      this._seq = 0
    },
  },

  methods: {
    onLoad(query) {
      this._id = Number(query && query.id) || null
      return this.load()
    },

    onShareAppMessage() {
      const v = this.data.vote
      if (!v) return { title: '大家的事大家议', path: '/pages/topics/list' }
      return { title: `${v.title}（${v.statusLabel}）`.slice(0, 40), path: `/pages/topics/vote?id=${v.id}` }
    },

    load() {
      if (!this._id) {
        this.setData({ error: '没有找到这次投票' })
        return Promise.resolve()
      }
      const seq = ++this._seq
      this.setData({ loading: true, error: '' })
      return api
        .get(`/votes/${this._id}`)
        .then((v) => {
          if (seq !== this._seq) return
          this._loadedOnce = true
          const vote = topics.voteView(v)
          this.setData({ loading: false, vote, choice: vote.myOption })
        })
        .catch((err) => {
          if (seq !== this._seq) return
          this.setData({ loading: false, error: topics.refusal(err) })
        })
    },

    onPick(e) {
      if (!this.data.vote || !this.data.vote.open || this.data.vote.paper) return
      this.setData({ choice: Number(e.currentTarget.dataset.id), castError: '', needHome: false })
    },

    onCast() {
      const v = this.data.vote
      const option = this.data.choice
      if (!v || this.data.casting) return Promise.resolve()
      if (!option) {
        this.setData({ castError: '请先选一项' })
        return Promise.resolve()
      }
      const intent = `cast-${v.id}-${option}`
      this.setData({ casting: true, castError: '', needHome: false })
      return api
        .post(`/votes/${v.id}/cast`, { option_id: option }, { key: this._keys.key(intent) })
        .then((res) => {
          this._keys.done(intent)
          const vote = topics.voteView(res)
          this.setData({ casting: false, vote, choice: vote.myOption })
          wx.showToast({ title: v.voted ? '已改好' : '投票成功', icon: 'success' })
        })
        .catch((err) => {
          this.setData({ casting: false, castError: topics.refusal(err), needHome: !!err && err.key === 'not_on_roll' })
          // 投票已结束或别处已投：以服务器为准
          if (err && (err.key === 'vote_not_open' || err.key === 'already_voted')) this.load()
        })
    },

    onHome() {
      wx.navigateTo({ url: '/pages/topics/home' })
    },

    onTopic() {
      wx.navigateTo({ url: `/pages/topics/topic?id=${this.data.vote.topicId}` })
    },
  },
})
