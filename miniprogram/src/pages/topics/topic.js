// 一个议题：经过（时间线）、居民的意见（文字和照片）、议事会的表决（记名）、公开的决定与结果、关注、去投票。
const api = require('../../utils/api')
const session = require('../../utils/session')
const topics = require('../../utils/topics')
const privacyBehavior = require('../../behaviors/privacy')
const photosBehavior = require('../../behaviors/photos')
const reloadBehavior = require('../../behaviors/reload')

const MAX_OPINION = 2000

Component({
  behaviors: [reloadBehavior, privacyBehavior, photosBehavior],

  data: {
    topic: null,
    opinions: [],
    loading: false,
    error: '',
    opinionText: '',
    opinionError: '',
    maxOpinion: MAX_OPINION,
    sending: false,
    followBusy: false,
    isStaff: false,
    replyingId: null,
    replyText: '',
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
      this.setData({ isStaff: session.isStaff() })
      return this.load()
    },

    onShareAppMessage() {
      const t = this.data.topic
      if (!t) return { title: '大家的事大家议', path: '/pages/topics/list' }
      return { title: `${t.title}（${t.statusLabel}）`.slice(0, 40), path: `/pages/topics/topic?id=${t.id}` }
    },

    load() {
      if (!this._id) {
        this.setData({ error: '没有找到这个议题' })
        return Promise.resolve()
      }
      const seq = ++this._seq
      this.setData({ loading: true, error: '' })
      return Promise.all([api.get(`/topics/${this._id}`), api.get(`/topics/${this._id}/opinions`)])
        .then(([t, ops]) => {
          if (seq !== this._seq) return
          this._loadedOnce = true
          const topic = topics.detailView(t)
          this.setData({ loading: false, topic, opinions: ((ops && ops.items) || []).map(topics.opinionView) })
          wx.setNavigationBarTitle({ title: topic.statusLabel })
        })
        .catch((err) => {
          if (seq !== this._seq) return
          this.setData({ loading: false, error: topics.refusal(err) })
        })
    },

    // —— 写意见（征求意见期间，本单位的居民） ——
    onOpinionInput(e) {
      this.setData({ opinionText: e.detail.value, opinionError: '' })
    },

    onSendOpinion() {
      const body = (this.data.opinionText || '').trim()
      if (this.data.sending) return Promise.resolve()
      if (!body) {
        this.setData({ opinionError: '请写下您的意见' })
        return Promise.resolve()
      }
      this.setData({ sending: true, opinionError: '' })
      let intent = ''
      // 照片先传完（每张有自己的键），再交意见
      return this.uploadAllPhotos()
        .then((media) => {
          const data = media.length ? { body, media } : { body }
          intent = `opinion-${JSON.stringify(data)}`
          return api.post(`/topics/${this._id}/opinions`, data, { key: this._keys.key(intent) })
        })
        .then((o) => {
          this._keys.done(intent)
          this.setData({ sending: false, opinionText: '', photos: [], opinions: this.data.opinions.concat([topics.opinionView(o)]) })
          wx.showToast({ title: o.held ? '已提交，审核后公开' : '意见已提交', icon: 'success' })
        })
        .catch((err) => {
          this.setData({ sending: false, opinionError: topics.refusal(err) })
          // 征求意见已结束：表单随刷新收起，所以再用提示说一遍
          if (err && err.key === 'not_soliciting') {
            topics.showRefusal(err)
            this.load()
          }
        })
    },

    // —— 工作人员回复意见 ——
    onReplyStart(e) {
      this.setData({ replyingId: Number(e.currentTarget.dataset.id), replyText: '' })
    },

    onReplyCancel() {
      this.setData({ replyingId: null, replyText: '' })
    },

    onReplyInput(e) {
      this.setData({ replyText: e.detail.value })
    },

    onReplySend() {
      const id = this.data.replyingId
      const reply = (this.data.replyText || '').trim()
      if (!id || !reply) {
        wx.showToast({ title: '请写下回复', icon: 'none' })
        return Promise.resolve()
      }
      return api
        .post(`/opinions/${id}/reply`, { reply }, { key: this._keys.key(`reply-${id}-${reply}`) })
        .then((o) => {
          const view = topics.opinionView(o)
          this.setData({ replyingId: null, replyText: '', opinions: this.data.opinions.map((x) => (x.id === id ? view : x)) })
          wx.showToast({ title: '已回复', icon: 'success' })
        })
        .catch(topics.showRefusal)
    },

    // —— 关注 ——
    onFollow() {
      const t = this.data.topic
      if (!t || this.data.followBusy) return Promise.resolve()
      const following = !t.following
      this.setData({ followBusy: true })
      const path = `/topics/${t.id}/follow`
      const req = following ? api.post(path) : api.call({ method: 'DELETE', path })
      return req
        .then(() => {
          this.setData({ followBusy: false, 'topic.following': following })
          wx.showToast({ title: following ? '已关注，有进展会告诉您' : '已取消关注', icon: 'none' })
        })
        .catch((err) => {
          this.setData({ followBusy: false })
          topics.showRefusal(err)
        })
    },

    onVote() {
      wx.navigateTo({ url: `/pages/topics/vote?id=${this.data.topic.voteId}` })
    },

    onManage() {
      wx.navigateTo({ url: `/pages/topics/manage?id=${this.data.topic.id}` })
    },

    onTicket() {
      wx.navigateTo({ url: `/pages/ticket/ticket?id=${this.data.topic.ticketId}` })
    },

    onHome() {
      wx.navigateTo({ url: '/pages/topics/home' })
    },

    onPreviewOpinionPhoto(e) {
      const op = this.data.opinions.find((o) => o.id === Number(e.currentTarget.dataset.id))
      if (op) wx.previewImage({ current: e.currentTarget.dataset.url, urls: op.photos.map((p) => p.url) })
    },

    onPreviewStepPhoto(e) {
      const step = this.data.topic.timeline[Number(e.currentTarget.dataset.key)]
      if (step) wx.previewImage({ current: e.currentTarget.dataset.url, urls: step.photos.map((p) => p.url) })
    },
  },
})
