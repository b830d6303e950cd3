// 把服务器给的数据变成界面上好读的文字。
const labels = require('./labels')
const urls = require('./urls')

function pad(n) {
  return n < 10 ? '0' + n : '' + n
}

function toDate(value) {
  if (!value) return null
  const d = value instanceof Date ? value : new Date(value)
  return isNaN(d.getTime()) ? null : d
}

// 时间一律按北京时间显示，与手机所在时区无关
const BEIJING_OFFSET_MS = 8 * 3600 * 1000

function beijing(value) {
  const d = toDate(value)
  if (!d) return null
  const b = new Date(d.getTime() + BEIJING_OFFSET_MS)
  return {
    year: b.getUTCFullYear(),
    month: b.getUTCMonth() + 1,
    day: b.getUTCDate(),
    hours: b.getUTCHours(),
    minutes: b.getUTCMinutes(),
  }
}

// 10月3日 14:05；不是今年的加上年份
function dateTime(value, now) {
  const d = beijing(value)
  if (!d) return ''
  const ref = beijing(now || new Date())
  const head = d.year === ref.year ? '' : d.year + '年'
  return `${head}${d.month}月${d.day}日 ${pad(d.hours)}:${pad(d.minutes)}`
}

function date(value) {
  const d = beijing(value)
  if (!d) return ''
  return `${d.year}年${d.month}月${d.day}日`
}

// 2026-10 形式的月份（北京时间）
function month(value) {
  const d = beijing(value || new Date())
  return `${d.year}-${pad(d.month)}`
}

// 2026-10-03 形式的日期（北京时间）
function isoDay(value) {
  const d = beijing(value || new Date())
  return `${d.year}-${pad(d.month)}-${pad(d.day)}`
}

// 一段时长的口语说法：2天3小时、5小时、20分钟
function duration(ms) {
  const minutes = Math.max(1, Math.floor(Math.abs(ms) / 60000))
  const days = Math.floor(minutes / 1440)
  const hours = Math.floor((minutes % 1440) / 60)
  const mins = minutes % 60
  if (days > 0) return hours > 0 ? `${days}天${hours}小时` : `${days}天`
  if (hours > 0) return `${hours}小时`
  return `${mins}分钟`
}

const OPEN_FOR_RESPONSE = ['submitted']
const OPEN_FOR_RESOLVE = ['accepted', 'deliberating', 'assigned', 'in_progress']

// 工作人员看到的期限：待受理看“受理期限”，办理中看“办结期限”
function deadline(ticket, now) {
  if (!ticket) return null
  let kind = ''
  let at = null
  if (OPEN_FOR_RESPONSE.indexOf(ticket.status) >= 0) {
    kind = '受理'
    at = toDate(ticket.respond_by)
  } else if (OPEN_FOR_RESOLVE.indexOf(ticket.status) >= 0) {
    kind = '办结'
    at = toDate(ticket.resolve_by)
  }
  if (!kind) return null
  const nowMs = now ? toDate(now).getTime() : Date.now()
  if (!at) {
    return ticket.overdue ? { text: '已超时', overdue: true, soon: false } : null
  }
  const left = at.getTime() - nowMs
  if (left <= 0 || ticket.overdue) {
    return { text: `${kind}已超时 ${duration(left <= 0 ? left : 0)}`, overdue: true, soon: false }
  }
  return { text: `${kind}还剩 ${duration(left)}`, overdue: false, soon: left < 24 * 3600 * 1000 }
}

function distance(meters) {
  if (meters === undefined || meters === null || isNaN(meters)) return ''
  if (meters < 1000) return `${Math.round(meters)}米`
  return `${(meters / 1000).toFixed(1)}公里`
}

// 两点间的距离（米），只用于列表上的大致说法
function metersBetween(lat1, lng1, lat2, lng2) {
  const rad = Math.PI / 180
  const dLat = (lat2 - lat1) * rad
  const dLng = (lng2 - lng1) * rad
  const a =
    Math.sin(dLat / 2) * Math.sin(dLat / 2) +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) * Math.sin(dLng / 2)
  return 6371000 * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a))
}

// 服务器的比率是 0 到 1 的小数；分母为 0 时是 null，显示“—”
function percent(rate) {
  if (rate === undefined || rate === null || isNaN(rate)) return '—'
  return `${Math.round(rate * 1000) / 10}%`
}

// 以一点为中心、边长约 2×radius 米的方框（地图查询用）
function boxAround(lat, lng, radius) {
  const dLat = radius / 111320
  const dLng = radius / (111320 * Math.max(Math.cos((lat * Math.PI) / 180), 0.01))
  const r = (x) => Math.round(x * 1e6) / 1e6
  return {
    min_lat: r(lat - dLat),
    min_lng: r(lng - dLng),
    max_lat: r(lat + dLat),
    max_lng: r(lng + dLng),
  }
}

// 照片：服务器给的相对地址补上主机
function photos(media) {
  return (media || []).map((m) => ({
    id: m.id,
    url: urls.mediaUrl(m.url),
    thumb: urls.mediaUrl(m.thumbnail_url || m.url),
  }))
}

// 给列表和详情用的一份“好显示”的工单（字段与服务器的 TicketOut 一一对应）
function ticketView(t, now) {
  const category = t.category || {}
  const icon = labels.iconFor(category.icon, category.name)
  const dl = deadline(t, now)
  const pics = photos(t.media)
  return {
    id: t.id,
    status: t.status,
    statusLabel: t.status_label || labels.statusLabel(t.status),
    categoryName: category.name || '其他问题',
    icon: category.icon || '',
    glyph: icon.glyph,
    color: icon.color,
    description: t.description || '',
    address: t.address || '',
    unitName: (t.unit && t.unit.name) || '',
    assigneeName: (t.assignee && t.assignee.display) || '',
    reporterName: (t.reporter && t.reporter.display) || '',
    responsibles: (t.responsibles || [])
      .map((r) => [r.title, r.name].filter(Boolean).join(' '))
      .filter(Boolean)
      .join('、'),
    createdText: dateTime(t.created_at, now),
    deadlineText: dl ? dl.text : '',
    overdue: !!((dl && dl.overdue) || t.overdue),
    soon: !!(dl && dl.soon),
    redo: !!t.redo,
    // 内容待审核：只有反映人和工作人员看得到
    held: !!t.held,
    urgent: t.priority === 'urgent',
    returnReason: t.status === 'returned' ? labels.reasonLabel(t.return_reason) : '',
    duplicateOf: t.duplicate_of || null,
    supporters: t.supporters || 0,
    // 反映人还没评价的已办结反映
    toRate: (t.allowed_actions || []).indexOf('rate') >= 0 && !t.rating,
    distanceText: distance(t.distance_m),
    thumb: pics.length ? pics[0].thumb : '',
  }
}

module.exports = {
  toDate,
  beijing,
  dateTime,
  date,
  month,
  isoDay,
  duration,
  deadline,
  distance,
  metersBetween,
  percent,
  boxAround,
  photos,
  ticketView,
}
