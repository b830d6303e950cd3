// 测试数据：照着真服务器的应答写（id 是整数，照片地址是相对的 /media/...，
// 错误带 errors.detail）。假服务器发出去时会按 OpenAPI 副本再核对一遍。

const UNIT = { id: 4, code: 'gz-demo-hq-1', name: '花桥社区' }
const UNIT_BRIEF = Object.assign({ kind: 'community', kind_label: '社区', parent_id: 2, depth: 2 }, UNIT)
// GET /units/locate inside the service area
const UNIT_DETAIL = Object.assign({}, UNIT_BRIEF, { ancestors: [], children: [], responsibles: [], boundary: null })

const USER = {
  id: 1,
  nickname: '王阿姨',
  phone_masked: '138****0000',
  posts: [],
  created_at: '2026-09-01T08:00:00+00:00',
}

// 有岗位的人：posts: [{unit, role, role_label}]
const ROLE_LABELS = { grid_worker: '网格员', cadre: '干部', unit_head: '单位负责人', deputy: '人大代表', admin: '管理员' }

function post(role, unit) {
  const u = unit || UNIT
  return { unit: { id: u.id, code: u.code, name: u.name, kind: u.kind || 'community' }, role, role_label: ROLE_LABELS[role] }
}

function userWith(...roles) {
  return Object.assign({}, USER, { id: 2, nickname: '网格员小王', posts: roles.map((role) => post(role)) })
}

const CATEGORIES = [
  { id: 6, code: 'streetlight', name: '路灯损坏', icon: 'streetlight', description: '', handler_kind: 'community', respond_hours: 24, resolve_days: 7, resolve_hours: null },
  { id: 8, code: 'sanitation', name: '环境卫生', icon: 'garbage', description: '', handler_kind: 'community', respond_hours: 24, resolve_days: 7, resolve_hours: null },
  { id: 7, code: 'road_damage', name: '道路破损', icon: 'road', description: '', handler_kind: 'street', respond_hours: 24, resolve_days: 7, resolve_hours: null },
]

const TEMPLATES = [
  { name: 'ticket_accepted', template_id: 'TPL_ACC', title: '反映已受理', long_term: false },
  { name: 'ticket_answered', template_id: 'TPL_ANS', title: '反映已答复', long_term: false },
  { name: 'rate_reminder', template_id: 'TPL_RATE', title: '请评价办理结果', long_term: false },
]

// 上传照片的应答（POST /media）与工单里的照片（MediaOut）
function media(id, extra) {
  return Object.assign(
    {
      id,
      url: `/media/2026/10/ab/photo${id}.jpg`,
      thumbnail_url: `/media/2026/10/ab/photo${id}-thumb.jpg`,
    },
    extra || {}
  )
}

// 一条反映（TicketOut），默认已办结、等反映人评价
function ticket(overrides = {}) {
  return Object.assign(
    {
      id: 1,
      status: 'resolved',
      status_label: '已办结',
      category: { code: 'streetlight', name: '路灯损坏', icon: 'streetlight' },
      description: '3号楼门口的路灯不亮了',
      lat: 30.58,
      lng: 114.27,
      coord: 'wgs84',
      address: '幸福路8号',
      unit: UNIT,
      responsibles: [{ name: '郑书记', title: '社区书记' }],
      triage: false,
      held: false,
      reporter: { id: 1, display: '王阿姨', phone_masked: '138****0000' },
      assignee: { id: 2, display: '李师傅' },
      priority: 'normal',
      respond_by: '2026-10-02T01:00:00+00:00',
      resolve_by: '2026-10-05T01:00:00+00:00',
      due_at: '2026-10-05T01:00:00+00:00',
      responded_at: '2026-10-01T01:00:00+00:00',
      resolved_at: '2026-10-02T08:30:00+00:00',
      overdue: false,
      redo: false,
      redo_count: 0,
      return_reason: null,
      duplicate_of: null,
      media: [media(1)],
      supporters: 2,
      rating: null,
      created_at: '2026-10-01T00:00:00+00:00',
      version: 4,
      allowed_actions: ['rate'],
    },
    overrides
  )
}

// 时间线上的一步（EventOut）
function event(overrides = {}) {
  return Object.assign(
    {
      id: 1,
      action: 'report',
      from_status: null,
      to_status: 'submitted',
      to_status_label: '待受理',
      actor: { role: 'reporter', display: '反映人（我）' },
      note: '',
      public: true,
      data: {},
      media: [],
      at: '2026-10-01T00:00:00+00:00',
    },
    overrides
  )
}

// 一条消息（NotificationOut）；page 如服务器所给：反映的消息打开那条反映
function notification(overrides = {}) {
  const n = Object.assign(
    {
      id: 1,
      template: 'ticket_accepted',
      title: '您的反映已受理',
      body: '花桥社区已受理您反映的路灯损坏问题',
      ticket_id: 1,
      read: false,
      delivery: 'inbox',
      delivery_label: '站内消息',
      created_at: '2026-10-01T01:00:00+00:00',
    },
    overrides
  )
  if (!('page' in overrides)) n.page = n.ticket_id ? `/pages/ticket/ticket?id=${n.ticket_id}&n=${n.id}` : `/pages/notifications/notifications?n=${n.id}`
  return n
}

// 派单时可选的人（StaffMember）
function staffMember(id, display, role, unit) {
  return { id, display, role, role_label: ROLE_LABELS[role], unit: unit || UNIT_BRIEF }
}

const DEFINITIONS = {
  response_rate: '响应率 = 在响应时限内受理、退回或转办的问题数 ÷ 应响应的问题数',
  resolution_rate: '解决率 = 已办结的问题数 ÷ 应办结的问题数',
  satisfaction_rate: '满意率 = （满意 + 基本满意）÷ 反映人已评价的问题数',
}

// 三率等数字（成绩单、通报里每个单位都有这一套）
function numbers(overrides = {}) {
  return Object.assign(
    {
      received: 42,
      response_base: 42,
      responded_in_time: 41,
      response_rate: 0.976,
      should_resolve: 42,
      resolved: 37,
      resolution_rate: 0.881,
      resolved_on_time: 35,
      on_time_resolution_rate: 0.833,
      rated: 30,
      satisfied: 20,
      basically_satisfied: 7,
      dissatisfied: 3,
      satisfaction_rate: 0.9,
      unrated: 3,
      overdue: 1,
      redo: 1,
      avg_response_hours: 3.5,
      median_response_hours: 2.0,
      avg_resolution_hours: 40.2,
      median_resolution_hours: 30.0,
      score: 0.92,
      ranked: true,
      rank: 2,
    },
    overrides
  )
}

// 一个单位一个月的成绩单（ReportUnitCard）
function unitCard(overrides = {}) {
  return Object.assign(
    {
      min_tickets: 5,
      weights: { response_rate: 0.3, resolution_rate: 0.4, satisfaction_rate: 0.3 },
      definitions: DEFINITIONS,
      period: '2026-10',
      period_label: '2026年10月',
      starts_at: '2026-09-30T16:00:00+00:00',
      ends_at: '2026-10-31T16:00:00+00:00',
      as_of: '2026-11-01T00:00:00+00:00',
    },
    numbers(),
    { unit: { id: 4, code: 'gz-demo-hq-1', name: '花桥社区', kind: 'community' }, category: null, ranked_among: 2 },
    overrides
  )
}

function bulletinBrief(overrides = {}) {
  return Object.assign(
    {
      id: 1,
      title: '2026年9-10月接诉即办通报',
      period: '2026-09..2026-10',
      period_label: '2026年9月至10月',
      starts_at: '2026-08-31T16:00:00+00:00',
      ends_at: '2026-10-31T16:00:00+00:00',
      as_of: '2026-11-01T00:00:00+00:00',
      published_at: '2026-11-05T02:00:00+00:00',
    },
    overrides
  )
}

// 一期通报里的一个单位（BulletinUnit）
function bulletinUnit(unit, parentId, depth, overrides = {}) {
  return Object.assign(numbers(), { unit, parent_id: parentId, depth }, overrides)
}

// 隐私指引的同意情况（GET/POST /me/consent）
function consent(consented, overrides = {}) {
  return Object.assign(
    { policy_version: '2026-11', current_version: '2026-11', consented, accepted_at: consented ? '2026-10-01T00:00:00+00:00' : null },
    overrides
  )
}

// GET /me/export 的应答（服务器 privacy/operations.py 的 export；文档里没有 schema）
function exportData(overrides = {}) {
  const events = [{ action: 'report', to_status: 'submitted', note: '', at: '2026-10-01T00:00:00+00:00' }]
  return Object.assign(
    {
      exported_at: '2026-11-20T02:30:00+00:00',
      user: { id: 1, nickname: '王阿姨', phone: '13800000000', created_at: '2026-09-01T08:00:00+00:00', last_login_at: '2026-11-20T02:00:00+00:00', posts: [] },
      consents: [{ policy_version: '2026-11', accepted_at: '2026-10-01T00:00:00+00:00' }],
      tickets: [
        { id: 1, status: 'resolved', category: '路灯损坏', description: '3号楼门口的路灯不亮了', lat: 30.58, lng: 114.27, address: '幸福路8号', anonymous: false, created_at: '2026-10-01T00:00:00+00:00', events },
        { id: 5, status: 'submitted', category: '环境卫生', description: '垃圾桶满了', lat: 30.58, lng: 114.27, address: '', anonymous: false, created_at: '2026-11-02T00:00:00+00:00', events },
      ],
      ratings: [{ ticket_id: 1, rating: 'satisfied', comment: '', at: '2026-10-03T00:00:00+00:00' }],
      supports: [],
      notifications: [{ title: '您的反映已受理', body: '花桥社区已受理', at: '2026-10-01T01:00:00+00:00' }],
      subscriptions: { ticket_accepted: 1 },
      photos: [1, 2, 3].map((id) => ({ id, content_type: 'image/jpeg', created_at: '2026-10-01T00:00:00+00:00', url: `http://127.0.0.1:8000/media/2026/10/${id}.jpg?exp=1796572800&sig=0123456789abcdef0123456789abcdef` })),
      homes: [],
      votes_taken: [],
      opinions: [],
      follows: [],
      council_seats: [],
    },
    overrides
  )
}

function hoursFromNow(h) {
  // 离整点差半分钟，倒计时的取整就不会因测试运行的快慢而变
  return new Date(Date.now() + h * 3600 * 1000 + (h >= 0 ? 30 : -30) * 1000).toISOString()
}

// 刚提交的反映，服务器回的样子（POST /tickets 的 201）
function created(overrides = {}) {
  return ticket(
    Object.assign(
      {
        id: 100,
        status: 'submitted',
        status_label: '待受理',
        coord: 'gcj02',
        assignee: null,
        responded_at: null,
        resolved_at: null,
        supporters: 0,
        allowed_actions: ['withdraw'],
        version: 1,
      },
      overrides
    )
  )
}

// —— 议题与投票（决策共谋） ——

// 单位树里的一个单位（UnitBrief）
function unitBrief(id, name, kind, parentId) {
  return { id, code: `gz-demo-${id}`, name, kind, kind_label: { community: '社区', compound: '小区' }[kind] || '单位', parent_id: parentId, depth: kind === 'compound' ? 3 : 2 }
}

// 一个议题（TopicOut），默认正在征求意见
function topic(overrides = {}) {
  return Object.assign(
    {
      id: 7,
      unit_id: 4,
      title: '3号楼前空地改成停车位还是小花园',
      body: '空地荒了两年，大家说说怎么用。',
      source: 'ticket',
      ticket_id: 12,
      status: 'soliciting',
      status_label: '征求意见',
      solicit_until: '2026-12-10T12:00:00+00:00',
      decision_method: null,
      passed: null,
      decision: '',
      result: '',
      opinions: 2,
      allowed_actions: [],
      version: 3,
      created_at: '2026-11-30T02:00:00+00:00',
    },
    overrides
  )
}

// 议题的经过上的一步（TopicEventOut）
function topicEvent(action, overrides = {}) {
  return Object.assign({ action, actor_role: 'cadre', at: '2026-11-30T02:00:00+00:00', data: {}, media: [], from_status: null, note: '', to_status: 'draft' }, overrides)
}

// 议事会的一次表决（SessionOut）：记名
function sitting(overrides = {}) {
  return Object.assign(
    {
      id: 3,
      motion: '同意改成小花园',
      members: 5,
      present: ['张委员', '李委员', '王委员', '赵委员'],
      votes: { 张委员: 'yes', 李委员: 'yes', 王委员: 'no', 赵委员: 'abstain' },
      rule: '2/3 出席，出席者过 1/2',
      passed: false,
      minutes: '分歧在停车',
      held_at: '2026-12-01T06:00:00+00:00',
    },
    overrides
  )
}

// 议题的详情（TopicDetail）
function topicDetail(overrides = {}) {
  return Object.assign(
    topic(),
    {
      following: false,
      sessions: [],
      votes: [],
      timeline: [
        topicEvent('create', { data: { source: 'ticket', ticket: 12 } }),
        topicEvent('solicit', { from_status: 'draft', to_status: 'soliciting', at: '2026-12-01T02:00:00+00:00', data: { until: '2026-12-10T12:00:00+00:00' }, note: '请大家说说' }),
      ],
    },
    overrides
  )
}

// 一条意见（OpinionOut）
function opinion(id, overrides = {}) {
  return Object.assign({ id, body: `第${id}条意见：要小花园`, created_at: '2026-12-02T02:00:00+00:00', held: false, hidden: false, media: [], mine: false }, overrides)
}

// 一次投票（VoteOut），默认正在投、我没投
function vote(overrides = {}) {
  return Object.assign(
    {
      id: 9,
      unit_id: 4,
      topic_id: 7,
      title: '空地改成小花园',
      status: 'open',
      status_label: '投票中',
      options: [
        { id: 21, label: '同意', is_yes: true },
        { id: 22, label: '不同意', is_yes: false },
      ],
      opens_at: '2026-12-05T00:00:00+00:00',
      closes_at: '2026-12-12T12:00:00+00:00',
      quorum_pct: 50,
      threshold_pct: 60,
      by_household: true,
      roll_size: 120,
      voted: false,
      my_option: null,
      channel: null,
      result: null,
    },
    overrides
  )
}

// 投票的结果（ResultOut）：少于 5 票时没有 counts
function voteResult(overrides = {}) {
  return Object.assign({ ballots: 80, roll_size: 120, turnout_pct: 66.7, quorum_met: true, passed: true, counts: { 21: 60, 22: 20 } }, overrides)
}

// 名册上的一条（RollEntryOut）
function rollEntry(overrides = {}) {
  return Object.assign({ id: 31, unit_id: 41, name: '刘阿姨', household: '3栋2单元501', status: 'claimed', version: 1 }, overrides)
}

module.exports = {
  unitBrief,
  topic,
  topicEvent,
  sitting,
  topicDetail,
  opinion,
  vote,
  voteResult,
  rollEntry,
  created,
  UNIT,
  UNIT_BRIEF,
  UNIT_DETAIL,
  USER,
  CATEGORIES,
  TEMPLATES,
  post,
  userWith,
  media,
  ticket,
  event,
  notification,
  staffMember,
  numbers,
  unitCard,
  bulletinBrief,
  bulletinUnit,
  consent,
  exportData,
  hoursFromNow,
}
