// 测试数据：一条反映和它的经过
function ticket(overrides = {}) {
  return Object.assign(
    {
      id: 't1',
      status: 'resolved',
      status_label: '已办结',
      category: { code: 'streetlight', name: '路灯', icon: 'streetlight' },
      description: '3号楼门口的路灯不亮了',
      lat: 30.58,
      lng: 114.27,
      address: '幸福路8号',
      unit: { id: 7, code: 'xfl', name: '幸福里社区' },
      assignee: { id: 's2', display: '李师傅' },
      reporter: { display: '王**' },
      respond_by: '2026-10-02T09:00:00+08:00',
      resolve_by: '2026-10-05T09:00:00+08:00',
      overdue: false,
      redo: false,
      priority: 'normal',
      media: [{ id: 'm1', url: 'https://img/m1.jpg', thumbnail_url: 'https://img/m1_t.jpg' }],
      supporters: 2,
      rating: null,
      created_at: '2026-10-01T08:00:00+08:00',
      version: 4,
      allowed_actions: ['rate'],
    },
    overrides
  )
}

function hoursFromNow(h) {
  // 离整点差半分钟，倒计时的取整就不会因测试运行的快慢而变
  return new Date(Date.now() + h * 3600 * 1000 + (h >= 0 ? 30 : -30) * 1000).toISOString()
}

module.exports = { ticket, hoursFromNow }
