// 议题与投票（决策共谋）：中文说法、拒绝的原因、给页面用的数据、正在看的单位。
// 字段与服务器的 TopicOut / TopicDetail / VoteOut / SessionOut 一一对应。
const api = require('./api')
const format = require('./format')
const labels = require('./labels')
const session = require('./session')

// 时间线上每一步的说法（服务器 server/topics/operations.py 的动作名）
const ACTION = {
  create: '提出议题',
  solicit: '开始征求意见',
  propose: '支部提议',
  deliberate: '交议事会商议',
  council: '议事会开会表决',
  put_to_residents: '交居民决定',
  decide: '形成决定',
  publish_decision: '公开决定',
  publish_result: '公开实施结果',
  close: '办结',
  withdraw: '撤回',
  reject: '不予采纳',
}

// 工作人员推进议题的按钮（只显示服务器 allowed_actions 里有的），form 是要填的表
const STEPS = [
  { action: 'solicit', label: '开始征求意见', form: 'until' },
  { action: 'propose', label: '支部提议', form: 'note' },
  { action: 'deliberate', label: '交议事会商议', form: 'note' },
  { action: 'put_to_residents', label: '交居民决定', form: 'residents' },
  { action: 'decide', label: '形成决定', form: 'decide' },
  { action: 'publish_decision', label: '公开决定', form: 'decision' },
  { action: 'publish_result', label: '公开实施结果', form: 'result' },
  { action: 'close', label: '办结', form: 'note' },
  { action: 'withdraw', label: '撤回议题', form: 'reason' },
  { action: 'reject', label: '不予采纳', form: 'reason' },
]

const METHOD = { assembly: '居民会议', vote: '网上投票' }
const COUNCIL_VOTE = { yes: '同意', no: '反对', abstain: '弃权' }
const COUNCIL_CHOICES = [
  { value: 'yes', label: '同意' },
  { value: 'no', label: '反对' },
  { value: 'abstain', label: '弃权' },
]
const ROLL_STATUS = { claimed: '待确认', confirmed: '已确认', rejected: '未通过', removed: '已迁出' }

// 列表的三个标签（服务器的 group）
const GROUPS = [
  { key: 'open', label: '议题征集中' },
  { key: 'voting', label: '投票中' },
  { key: 'decided', label: '已决定' },
]

// 能提出议题的岗位（服务器 topics/rules.py 的 STAFF）；草拟的议题也只有他们看得到
const PROPOSERS = ['cadre', 'unit_head', 'deputy', 'admin']

function canPropose(user) {
  return session.posts(user).some((p) => PROPOSERS.indexOf(p.role) >= 0)
}

// 草拟的议题只给能提出议题的人看
const DRAFT_GROUP = { key: 'draft', label: '草拟' }

// 服务器拒绝时的键 → 给居民看的话（没有的按 api.messageFor）
const REFUSALS = {
  not_a_resident: '只有本单位登记过住址的居民可以发表意见，请先登记住址',
  not_soliciting: '现在不在征求意见期间，不能再写意见了',
  not_on_roll: '您还不在本次投票的名册上，请先登记住址',
  vote_not_open: '现在不在投票时间内',
  already_voted: '您（您这一户）已经投过票了，纸质选票投过的不能再网上投',
  results_hidden: '投票结束后才公布结果',
  invalid_option: '这个选项不存在，请刷新后再选',
  no_council: '本单位还没有议事会成员，请先设置',
  invalid_session: '出席和表决的须是本单位议事会成员',
  invalid_window: '时间不对：征求意见至少三天、至多六十天；投票至少一小时、至多九十天',
  invalid_options: '选项应为 2 到 10 个互不相同的说法',
  invalid_home: '请选择所住的小区或社区',
  already_confirmed: '这个住址已经确认过了',
  topic_not_found: '没有找到这个议题',
  vote_not_found: '没有找到这次投票',
  text_required: '请把内容写上',
}

function refusal(err) {
  if (err && !err.network && REFUSALS[err.key]) return REFUSALS[err.key]
  return api.messageFor(err)
}

function showRefusal(err) {
  wx.showToast({ title: refusal(err), icon: 'none', duration: 3000 })
}

function passedText(passed) {
  if (passed === true) return '通过'
  if (passed === false) return '未通过'
  return ''
}

function eventDetail(e) {
  const d = e.data || {}
  const parts = []
  if (d.until) parts.push(`征求意见到${format.date(d.until)}`)
  if (d.opinions !== undefined) parts.push(`收到意见${d.opinions}条`)
  if (d.method) parts.push(`方式：${METHOD[d.method] || d.method}`)
  if (d.present !== undefined) parts.push(`成员${d.members}人，出席${d.present}人，同意${d.yes}人`)
  if (d.passed !== undefined) parts.push(passedText(d.passed))
  return parts.join('，')
}

function eventView(e, i) {
  return {
    key: i,
    action: e.action,
    label: ACTION[e.action] || '处理',
    who: labels.roleLabel(e.actor_role),
    at: format.dateTime(e.at),
    detail: eventDetail(e),
    note: e.note || '',
    photos: format.photos(e.media),
  }
}

function sessionView(s) {
  return {
    id: s.id,
    motion: s.motion,
    at: format.dateTime(s.held_at),
    passed: s.passed,
    passedText: passedText(s.passed),
    rule: s.rule,
    attendance: `成员${s.members}人，出席${s.present.length}人`,
    present: s.present.join('、'),
    votes: Object.keys(s.votes || {}).map((name) => ({ name, vote: s.votes[name], label: COUNCIL_VOTE[s.votes[name]] || '' })),
    minutes: s.minutes || '',
  }
}

// 列表和详情共用的一份“好显示”的议题
function topicView(t) {
  return {
    id: t.id,
    unitId: t.unit_id,
    title: t.title,
    body: t.body || '',
    status: t.status,
    statusLabel: t.status_label,
    createdText: format.date(t.created_at),
    source: t.source === 'ticket' ? '来自群众反映' : '由干部或人大代表提出',
    ticketId: t.ticket_id || null,
    soliciting: t.status === 'soliciting',
    solicitText: t.solicit_until ? `征求意见到${format.dateTime(t.solicit_until)}` : '',
    method: t.decision_method ? METHOD[t.decision_method] || '' : '',
    passed: t.passed === undefined ? null : t.passed,
    passedText: passedText(t.passed),
    decision: t.decision || '',
    result: t.result || '',
    opinions: t.opinions || 0,
    actions: t.allowed_actions || [],
    version: t.version,
  }
}

function detailView(t) {
  return Object.assign(topicView(t), {
    following: !!t.following,
    timeline: (t.timeline || []).map(eventView),
    sessions: (t.sessions || []).map(sessionView),
    voteId: t.votes && t.votes.length ? t.votes[t.votes.length - 1] : null,
  })
}

function opinionView(o) {
  return {
    id: o.id,
    body: o.body,
    at: format.dateTime(o.created_at),
    held: !!o.held,
    mine: !!o.mine,
    reply: o.reply || '',
    photos: format.photos(o.media),
  }
}

// 投票：规则在投票前就给居民看；结果只在结束后（人数少于 5 时服务器不给票数）
function resultView(r, options) {
  if (!r) return null
  const counts = r.counts
    ? options.map((o) => ({ id: o.id, label: o.label, count: r.counts[String(o.id)] || 0 }))
    : null
  return {
    passed: r.passed,
    passedText: passedText(r.passed),
    quorumMet: r.quorum_met,
    turnout: `${r.turnout_pct}%`,
    ballots: r.ballots,
    rollSize: r.roll_size,
    counts,
  }
}

function voteView(v) {
  const options = (v.options || []).map((o) => ({ id: o.id, label: o.label, isYes: !!o.is_yes, mine: v.my_option === o.id }))
  const yes = options.find((o) => o.isYes)
  return {
    id: v.id,
    title: v.title,
    status: v.status,
    statusLabel: v.status_label,
    open: v.status === 'open',
    closed: v.status === 'closed',
    topicId: v.topic_id || null,
    options,
    window: `${format.dateTime(v.opens_at)} 至 ${format.dateTime(v.closes_at)}`,
    closesText: format.dateTime(v.closes_at),
    byText: v.by_household ? '按户投票：每户一票，由户代表投' : '按人投票：名册上每人一票',
    quorumText: `投票的人数达到名册的${v.quorum_pct}%，投票才有效`,
    thresholdText: `选“${yes ? yes.label : '同意'}”的超过有效票的${v.threshold_pct}%，才算通过`,
    rollSize: v.roll_size,
    rollText: v.roll_size ? `名册上共${v.roll_size}${v.by_household ? '户' : '人'}` : '',
    voted: !!v.voted,
    myOption: v.my_option === undefined ? null : v.my_option,
    paper: v.channel === 'paper',
    result: resultView(v.result, options),
  }
}

function rollView(e) {
  return {
    id: e.id,
    unitId: e.unit_id,
    name: e.name,
    household: e.household || '',
    status: e.status,
    statusLabel: ROLL_STATUS[e.status] || e.status,
    version: e.version,
  }
}

// 单位：只从服务器的单位树里选（GET /units）
function loadUnits(query) {
  return api.get('/units', Object.assign({ limit: 100 }, query)).then((res) => (res && res.items) || [])
}

// 正在看的单位，页面之间共用（只在内存里）
let currentUnit = null

function setUnit(unit) {
  currentUnit = unit ? { id: unit.id, name: unit.name || '' } : null
}

function getUnit() {
  return currentUnit
}

// 议事会成员（编号与称呼）：服务器没有列出成员的接口，上次记录时用过的名单存在本机，下次带出来
const COUNCIL_KEY = 'gz_council_'

function councilMembers(unitId) {
  try {
    const list = wx.getStorageSync(COUNCIL_KEY + unitId)
    return Array.isArray(list) ? list : []
  } catch (e) {
    return []
  }
}

function saveCouncilMembers(unitId, members) {
  try {
    wx.setStorageSync(COUNCIL_KEY + unitId, members)
  } catch (e) {
    // 存不进去下次再填
  }
}

module.exports = {
  canPropose,
  councilMembers,
  saveCouncilMembers,
  ACTION,
  STEPS,
  METHOD,
  COUNCIL_CHOICES,
  GROUPS,
  DRAFT_GROUP,
  REFUSALS,
  refusal,
  showRefusal,
  topicView,
  detailView,
  opinionView,
  voteView,
  rollView,
  loadUnits,
  setUnit,
  getUnit,
}
