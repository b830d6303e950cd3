// 我关注的：人大代表（或任何人）关注的议题和反映，各自到了哪一步。
const api = require('../../utils/api')
const reloadBehavior = require('../../behaviors/reload')

Component({
  behaviors: [reloadBehavior],
  data: {
    items: [],
    loading: false,
    error: '',
  },

  methods: {
    onLoad() {
      return this.load()
    },

    load() {
      this.setData({ loading: true, error: '' })
      return api
        .get('/me/follows')
        .then((res) => {
          this._loadedOnce = true
          const items = (res.items || []).map((f) => ({
            key: `${f.kind}-${f.id}`,
            id: f.id,
            kind: f.kind,
            kindLabel: f.kind === 'topic' ? '议题' : '反映',
            title: f.title,
            statusLabel: f.status_label,
          }))
          this.setData({ loading: false, items })
        })
        .catch((err) => this.setData({ loading: false, error: api.messageFor(err) }))
    },

    onOpen(e) {
      const { kind, id } = e.currentTarget.dataset
      wx.navigateTo({ url: kind === 'topic' ? `/pages/topics/topic?id=${id}` : `/pages/ticket/ticket?id=${id}` })
    },
  },
})
