// 页面共用：选照片（最多 9 张）、选好就上传、提交前确保都已传上去。
// 需要与 privacy behavior 一起使用（用到 this.ensurePrivacy）。
const api = require('../utils/api')

const MAX_PHOTOS = 9
// How long "撤销" stays offered after a photo is removed
const UNDO_MS = 8000

module.exports = Behavior({
  data: {
    photos: [],
    maxPhotos: MAX_PHOTOS,
    photoRemoved: false,
  },
  lifetimes: {
    created() {
      this._uploads = {}
      this._removed = null
    },
    detached() {
      clearTimeout(this._undoTimer)
    },
  },
  methods: {
    onAddPhoto() {
      const left = MAX_PHOTOS - this.data.photos.length
      if (left <= 0) {
        wx.showToast({ title: `最多${MAX_PHOTOS}张照片`, icon: 'none' })
        return Promise.resolve()
      }
      return this.ensurePrivacy().then((ok) => {
        if (!ok) return
        wx.chooseMedia({
          count: left,
          mediaType: ['image'],
          sourceType: ['camera', 'album'],
          sizeType: ['compressed'],
          success: (res) => {
            const added = (res.tempFiles || []).slice(0, left).map((f) => ({
              path: f.tempFilePath,
              id: '',
              state: 'uploading',
              key: api.newKey(),
            }))
            this.setData({ photos: this.data.photos.concat(added), error: '' })
            added.forEach((p) => this.uploadPhoto(p.path).catch(() => {}))
          },
        })
      })
    },

    // Removing keeps the photo (and its upload) a few seconds for 撤销
    onRemovePhoto(e) {
      const path = e.currentTarget.dataset.path
      const index = this.data.photos.findIndex((p) => p.path === path)
      if (index < 0) return
      this._removed = { photo: this.data.photos[index], index }
      this.setData({ photos: this.data.photos.filter((p) => p.path !== path), photoRemoved: true })
      clearTimeout(this._undoTimer)
      this._undoTimer = setTimeout(() => {
        this._removed = null
        this.setData({ photoRemoved: false })
      }, UNDO_MS)
    },

    onUndoRemovePhoto() {
      const removed = this._removed
      clearTimeout(this._undoTimer)
      this._removed = null
      if (!removed) {
        this.setData({ photoRemoved: false })
        return
      }
      const photos = this.data.photos.slice()
      photos.splice(Math.min(removed.index, photos.length), 0, removed.photo)
      this.setData({ photos, photoRemoved: false })
    },

    onPreviewPhoto(e) {
      wx.previewImage({
        current: e.currentTarget.dataset.path,
        urls: this.data.photos.map((p) => p.path),
      })
    },

    updatePhoto(path, patch) {
      const photos = this.data.photos.map((p) => (p.path === path ? Object.assign({}, p, patch) : p))
      this.setData({ photos })
    },

    // 每张照片有自己的幂等键，重传时沿用
    uploadPhoto(path) {
      const photo = this.data.photos.find((p) => p.path === path)
      if (!photo) return Promise.resolve('')
      if (photo.id) return Promise.resolve(photo.id)
      if (this._uploads[path]) return this._uploads[path]
      this.updatePhoto(path, { state: 'uploading' })
      const task = api
        .upload(path, { key: photo.key })
        .then((res) => {
          this.updatePhoto(path, { id: res.id, state: 'done' })
          return res.id
        })
        .catch((err) => {
          this.updatePhoto(path, { state: 'failed' })
          throw err
        })
      this._uploads[path] = task
      const clear = () => {
        delete this._uploads[path]
      }
      task.then(clear, clear)
      return task
    },

    // 返回全部照片的 id（按顺序）；有一张传不上去就整体失败
    uploadAllPhotos() {
      return Promise.all(this.data.photos.map((p) => this.uploadPhoto(p.path)))
    },
  },
})
