// 页面共用：回到页面时、下拉时、点“再试一次”时，重新调用页面自己的 load()。
module.exports = Behavior({
  methods: {
    onShow() {
      // 从办理页、投票页回来时刷新（第一次由 onLoad 加载）
      if (this._loadedOnce) this.load()
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    onRetry() {
      return this.load()
    },
  },
})
