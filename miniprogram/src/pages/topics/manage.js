// 工作人员办理议题：按服务器 allowed_actions 推进（每一步有自己的表，可带照片），记录议事会的表决
// （记名，成员名单取自服务器，可带照片），开始 / 结束 / 取消网上投票，录入纸质选票。
const api = require('../../utils/api')
const format = require('../../utils/format')
const topics = require('../../utils/topics')
const privacyBehavior = require('../../behaviors/privacy')
const photosBehavior = require('../../behaviors/photos')

const DAY_MS = 24 * 3600 * 1000

function dayAfter(days) {
  return format.isoDay(new Date(Date.now() + days * DAY_MS))
}

// 北京时间某天的某个钟点，服务器要 date-time
function at(day, hhmm) {
  return `${day}T${hhmm}:00+08:00`
}

function blankForm() {
  return {
    note: '',
    text: '',
    until: dayAfter(7),
    passed: null,
    method: 'assembly',
    options: '同意\n不同意',
    opensDay: format.isoDay(),
    closesDay: dayAfter(7),
    quorum: '50',
    threshold: '50',
    byHousehold: false,
  }
}

// 一个动作发给服务器的内容；不合格时返回 {error}
function bodyFor(step, f, version) {
  const note = (f.note || '').trim()
  const text = (f.text || '').trim()
  switch (step.form) {
    case 'until':
      return { until: at(f.until, '20:00'), note, version }
    case 'reason':
      return text ? { reason: text, version } : { error: '请写明理由，居民会看到' }
    case 'decision':
      return text ? { decision: text, version } : { error: '请写上决定的内容' }
    case 'result':
      return text ? { result: text, version } : { error: '请写上实施的结果' }
    case 'decide':
      return f.passed === null ? { error: '请选择通过还是不通过' } : { passed: f.passed, note, version }
    case 'residents': {
      if (f.method === 'assembly') return { method: 'assembly', note, version }
      const options = f.options.split('\n').map((s) => s.trim()).filter(Boolean)
      if (options.length < 2) return { error: '投票至少要有两个选项，每行写一个' }
      const quorum = Number(f.quorum)
      const threshold = Number(f.threshold)
      if (!(quorum >= 0 && quorum <= 100) || !(threshold >= 0 && threshold <= 99)) {
        return { error: '有效人数是 0 到 100，通过线是 0 到 99 的整数' }
      }
      // 今天开始的从现在开始，以后的从那天早上 8 点开始
      const opens = f.opensDay === format.isoDay() ? new Date().toISOString() : at(f.opensDay, '08:00')
      return {
        method: 'vote',
        note,
        version,
        vote: {
          options,
          yes_option: 0,
          opens_at: opens,
          closes_at: at(f.closesDay, '20:00'),
          quorum_pct: Math.round(quorum),
          threshold_pct: Math.round(threshold),
          by_household: !!f.byHousehold,
        },
      }
    }
    default:
      return { note, version }
  }
}

// 照片没传上去时给表单看的话（表里的内容都留着）
function photoFailure(err) {
  return `有照片没传上去（${topics.refusal(err)}），填的内容都还在，请再点一次`
}

function withMedia(body, media) {
  return media && media.length ? Object.assign({}, body, { media }) : body
}

function councilNotice(source, loadError) {
  if (source !== 'manual') return ''
  if (loadError) return `没取到议事会成员名单（${loadError}），可以再取一次，或按成员编号填写`
  return '系统里还没有本单位议事会成员的名单（请管理员设置），可以先按成员编号填写'
}

Component({
  behaviors: [privacyBehavior, photosBehavior],

  data: {
    topic: null,
    vote: null,
    steps: [],
    step: null,
    form: blankForm(),
    today: format.isoDay(),
    formError: '',
    busy: false,
    loading: false,
    error: '',
    // 照片跟着正打开的那张表：'step'（推进议题）或 'council'（议事会表决）
    photoOwner: '',
    // 议事会：成员名单取自服务器（source: 'server'）；取不到或是空的，按编号填（'manual'）
    councilOpen: false,
    council: { motion: '', minutes: '', members: [], source: '', loading: false, loadError: '', notice: '' },
    seatInput: '',
    seatName: '',
    choices: topics.COUNCIL_CHOICES,
    councilError: '',
    // 纸质选票
    paperEntry: '',
    paperOption: null,
    paperError: '',
    cancelReason: '',
  },

  lifetimes: {
    created() {
      this._id = null
      this._keys = api.intentKeys()
      this._photoSets = {}
      this._councilUnit = null
    },
  },

  methods: {
    onLoad(query) {
      this._id = Number(query && query.id) || null
      return this.load()
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },

    onRetry() {
      return this.load()
    },

    load() {
      this.setData({ loading: true, error: '' })
      return api
        .get(`/topics/${this._id}`)
        .then((t) => {
          const topic = topics.detailView(t)
          const steps = topics.STEPS.filter((s) => topic.actions.indexOf(s.action) >= 0)
          this.setData({ topic, steps })
          // 不再商议了（例如别人已推进），议事会的表收起
          if (this.data.councilOpen && topic.status !== 'deliberating') this.closeCouncil()
          return topic.voteId ? api.get(`/votes/${topic.voteId}`).then((v) => this.setData({ vote: topics.voteView(v) })) : null
        })
        .then(() => this.setData({ loading: false }))
        .catch((err) => this.setData({ loading: false, error: topics.refusal(err) }))
    },

    // 写操作共用：成功后重新取，409 说明并刷新
    send(path, body, intent) {
      if (this.data.busy) return Promise.resolve(false)
      this.setData({ busy: true })
      return api
        .post(path, body, { key: this._keys.key(intent) })
        .then((res) => {
          this._keys.done(intent)
          this.setData({ busy: false })
          return this.load().then(() => res || true)
        })
        .catch((err) => {
          this.setData({ busy: false })
          if (err && err.status === 409 && !topics.REFUSALS[err.key]) {
            wx.showToast({ title: api.refreshedMessage(err), icon: 'none', duration: 3000 })
            return this.load().then(() => false)
          }
          topics.showRefusal(err)
          return false
        })
    },

    // —— 照片：跟着正打开的那张表 ——
    // 换一张表时把原来那张表的照片收起来（议事会的表回来时放回去），页面上只有一个照片格子
    switchPhotos(owner) {
      const current = this.data.photoOwner
      if (current === owner) return
      if (current) this._photoSets[current] = this.data.photos
      const photos = (owner && this._photoSets[owner]) || []
      if (owner) delete this._photoSets[owner]
      clearTimeout(this._undoTimer)
      this._removed = null
      this.setData({ photoOwner: owner, photos, photoRemoved: false })
    },

    // 收起来的照片还在上传时，传完也记下它的 id
    updatePhoto(path, patch) {
      const patchOne = (p) => (p.path === path ? Object.assign({}, p, patch) : p)
      Object.keys(this._photoSets).forEach((k) => {
        this._photoSets[k] = this._photoSets[k].map(patchOne)
      })
      this.setData({ photos: this.data.photos.map(patchOne) })
    },

    // 照片先传完（每张有自己的键）再发；没有照片就不带 media。传不上去时 onFail 说明，返回 null
    attachPhotos(body, onFail) {
      if (!this.data.photos.length) return Promise.resolve(body)
      this.setData({ busy: true })
      return this.uploadAllPhotos().then(
        (media) => {
          this.setData({ busy: false })
          return withMedia(body, media)
        },
        (err) => {
          this.setData({ busy: false })
          onFail(photoFailure(err))
          return null
        }
      )
    },

    // —— 推进议题 ——
    onPickStep(e) {
      const step = topics.STEPS.find((s) => s.action === e.currentTarget.dataset.action)
      if (this.data.councilOpen) this.closeCouncil()
      // 新的一张表：照片也从头选
      delete this._photoSets.step
      if (this.data.photoOwner === 'step') this.switchPhotos('')
      this.switchPhotos('step')
      this.setData({ step, form: blankForm(), formError: '' })
    },

    closeStep() {
      if (this.data.photoOwner === 'step') this.switchPhotos('')
      delete this._photoSets.step
      this.setData({ step: null, formError: '' })
    },

    onCancelStep() {
      this.closeStep()
    },

    onFormInput(e) {
      this.setData({ [`form.${e.currentTarget.dataset.field}`]: e.detail.value, formError: '' })
    },

    onFormPick(e) {
      const { field, value } = e.currentTarget.dataset
      this.setData({ [`form.${field}`]: value, formError: '' })
    },

    onToggleHousehold() {
      this.setData({ 'form.byHousehold': !this.data.form.byHousehold })
    },

    onSubmitStep() {
      const step = this.data.step
      if (!step || this.data.busy) return Promise.resolve()
      const fields = bodyFor(step, this.data.form, this.data.topic.version)
      if (fields.error) {
        this.setData({ formError: fields.error })
        return Promise.resolve()
      }
      this.setData({ formError: '' })
      return this.attachPhotos(fields, (message) => this.setData({ formError: message }))
        .then((body) => body && this.send(`/topics/${this._id}/${step.action}`, body, `${step.action}-${JSON.stringify(body)}`))
        .then((ok) => {
          if (!ok) return
          this.closeStep()
          wx.showToast({ title: `已${step.label}`, icon: 'success' })
        })
    },

    // —— 议事会：打开表时取本单位的成员名单（GET /council），点名字勾出席，各自表决 ——
    onOpenCouncil() {
      if (this.data.step) this.closeStep()
      this.switchPhotos('council')
      this.setData({ councilOpen: true, councilError: '' })
      return this.loadCouncilMembers()
    },

    onCloseCouncil() {
      this.closeCouncil()
    },

    // 收起表：写了的事项、纪要、勾的出席和照片都留着，再打开时接着填
    closeCouncil() {
      if (this.data.photoOwner === 'council') this.switchPhotos('')
      this.setData({ councilOpen: false, councilError: '' })
    },

    onReloadCouncil() {
      return this.loadCouncilMembers(true)
    },

    loadCouncilMembers(force) {
      const unitId = this.data.topic && this.data.topic.unitId
      if (!unitId) return Promise.resolve()
      if (!force && this._councilUnit === unitId && this.data.council.source === 'server') return Promise.resolve()
      this.setData({ 'council.loading': true })
      const previous = this.data.council
      // 已经勾过的出席和表决，换成新名单时留着
      const keep = (m) => {
        const had = previous.members.find((x) => x.id === m.id)
        return Object.assign({ present: false, vote: '' }, m, had ? { present: had.present, vote: had.vote } : {})
      }
      const manual = (loadError) => {
        const members = previous.source === 'manual' && previous.members.length ? previous.members : topics.councilMembers(unitId).map(keep)
        this.setData({
          'council.members': members,
          'council.source': 'manual',
          'council.loading': false,
          'council.loadError': loadError,
          'council.notice': councilNotice('manual', loadError),
        })
      }
      return topics
        .loadCouncil(unitId)
        .then((list) => {
          if (!list.length) return manual('')
          this._councilUnit = unitId
          this.setData({
            'council.members': list.map(keep),
            'council.source': 'server',
            'council.loading': false,
            'council.loadError': '',
            'council.notice': '',
          })
        })
        .catch((err) => manual(topics.refusal(err)))
    },
    onSeatInput(e) {
      this.setData({ seatInput: e.detail.value, councilError: '' })
    },

    onSeatNameInput(e) {
      this.setData({ seatName: e.detail.value })
    },

    onAddSeat() {
      const id = Number(this.data.seatInput)
      if (!Number.isInteger(id) || id < 1) {
        this.setData({ councilError: '请填成员的编号（数字）' })
        return
      }
      if (this.data.council.members.some((m) => m.id === id)) {
        this.setData({ councilError: '这位成员已经在名单上' })
        return
      }
      const members = this.data.council.members.concat([{ id, name: (this.data.seatName || '').trim() || `成员${id}号`, present: true, vote: '' }])
      this.setData({ 'council.members': members, seatInput: '', seatName: '', councilError: '' })
    },

    onTogglePresent(e) {
      const id = Number(e.currentTarget.dataset.id)
      const members = this.data.council.members.map((m) => (m.id === id ? Object.assign({}, m, { present: !m.present, vote: m.present ? '' : m.vote }) : m))
      this.setData({ 'council.members': members, councilError: '' })
    },

    onPickMemberVote(e) {
      const id = Number(e.currentTarget.dataset.id)
      const vote = e.currentTarget.dataset.value
      const members = this.data.council.members.map((m) => (m.id === id ? Object.assign({}, m, { vote, present: true }) : m))
      this.setData({ 'council.members': members, councilError: '' })
    },

    onCouncilInput(e) {
      this.setData({ [`council.${e.currentTarget.dataset.field}`]: e.detail.value, councilError: '' })
    },

    onRecordSession() {
      const c = this.data.council
      const motion = (c.motion || '').trim()
      const present = c.members.filter((m) => m.present)
      let problem = ''
      if (!motion) problem = '请写上表决的事项（动议）'
      else if (!present.length) problem = '请勾出出席的成员'
      else if (present.some((m) => !m.vote)) problem = '每位出席的成员都要选同意、反对或弃权'
      if (problem) {
        this.setData({ councilError: problem })
        return Promise.resolve()
      }
      const votes = {}
      present.forEach((m) => {
        votes[String(m.id)] = m.vote
      })
      const fields = { motion, present: present.map((m) => m.id), votes, minutes: (c.minutes || '').trim(), version: this.data.topic.version }
      // 按编号填的名单存在本机，下次带出来；服务器给的名单不用存
      if (c.source === 'manual') topics.saveCouncilMembers(this.data.topic.unitId, c.members.map((m) => ({ id: m.id, name: m.name })))
      if (this.data.busy) return Promise.resolve()
      this.setData({ councilError: '' })
      return this.attachPhotos(fields, (message) => this.setData({ councilError: message }))
        .then((body) => body && this.send(`/topics/${this._id}/council`, body, `council-${JSON.stringify(body)}`))
        .then((s) => {
          if (!s) return
          // 出席的还是这些人，下一项动议重新表决
          const members = this.data.council.members.map((m) => Object.assign({}, m, { vote: '' }))
          delete this._photoSets.council
          this.setData({ 'council.motion': '', 'council.minutes': '', 'council.members': members, photos: [], photoRemoved: false })
          wx.showToast({ title: s.passed ? '表决通过' : '表决未通过', icon: 'none' })
        })
    },

    // —— 网上投票 ——
    onOpenVote() {
      return this.send(`/votes/${this.data.vote.id}/open`, {}, `open-${this.data.vote.id}`).then((ok) => {
        if (ok) wx.showToast({ title: '投票已开始', icon: 'success' })
      })
    },

    onCloseVote() {
      const id = this.data.vote.id
      return new Promise((resolve) => {
        wx.showModal({
          title: '结束投票',
          content: '结束后不能再投，结果会马上公布。确定现在结束吗？',
          confirmText: '结束',
          cancelText: '再想想',
          success: (res) => {
            if (!res || !res.confirm) return resolve()
            this.send(`/votes/${id}/close`, {}, `close-${id}`).then((ok) => {
              if (ok) wx.showToast({ title: '投票已结束', icon: 'success' })
              resolve()
            })
          },
        })
      })
    },

    onCancelReasonInput(e) {
      this.setData({ cancelReason: e.detail.value })
    },

    onCancelVote() {
      const reason = (this.data.cancelReason || '').trim()
      if (!reason) {
        wx.showToast({ title: '请写明取消投票的理由', icon: 'none' })
        return Promise.resolve()
      }
      const id = this.data.vote.id
      return this.send(`/votes/${id}/cancel`, { reason }, `cancel-${id}-${reason}`).then((ok) => {
        if (ok) wx.showToast({ title: '投票已取消', icon: 'none' })
      })
    },

    // —— 纸质选票：名册编号 + 选项 ——
    onPaperEntryInput(e) {
      this.setData({ paperEntry: e.detail.value, paperError: '' })
    },

    onPickPaperOption(e) {
      this.setData({ paperOption: Number(e.currentTarget.dataset.id), paperError: '' })
    },

    onSubmitPaper() {
      const entry = Number(this.data.paperEntry)
      const option = this.data.paperOption
      if (!Number.isInteger(entry) || entry < 1) {
        this.setData({ paperError: '请填选票上的名册编号（数字）' })
        return Promise.resolve()
      }
      if (!option) {
        this.setData({ paperError: '请选这张选票投的选项' })
        return Promise.resolve()
      }
      const id = this.data.vote.id
      const intent = `paper-${id}-${entry}-${option}`
      this.setData({ busy: true, paperError: '' })
      return api
        .post(`/votes/${id}/paper`, { entry_id: entry, option_id: option }, { key: this._keys.key(intent) })
        .then(() => {
          this._keys.done(intent)
          this.setData({ busy: false, paperEntry: '', paperOption: null })
          wx.showToast({ title: `名册${entry}号的选票已录入`, icon: 'none' })
        })
        .catch((err) => {
          const message = err && err.key === 'not_on_roll' ? '这一户（人）不在本次投票的名册上' : topics.refusal(err)
          this.setData({ busy: false, paperError: message })
        })
    },
  },
})
