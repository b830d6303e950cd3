// 议题与投票的测试数据合服务器的 schema；服务器的每个议题动作小程序都有按钮和时间线上的说法；
// 枚举（列表分组、议事会表决）与服务器一致。
const openapi = require('./helpers/openapi')
const fx = require('./helpers/fixtures')
const topics = require('../src/utils/topics')

const { validate, schema } = openapi
const doc = openapi.spec()

function ok(name, value) {
  expect(validate(schema(name), value)).toEqual([])
}

test('the topic and vote fixtures fit the server\'s schemas', () => {
  ok('TopicOut', fx.topic())
  ok('TopicDetail', fx.topicDetail({ sessions: [fx.sitting()], votes: [9], timeline: [fx.topicEvent('council', { data: { session: 3, present: 4, members: 5, yes: 2, passed: false } })] }))
  ok('OpinionOut', fx.opinion(1, { reply: '会考虑', media: [fx.media(3)] }))
  ok('VoteOut', fx.vote())
  ok('VoteOut', fx.vote({ status: 'closed', status_label: '已结束', result: fx.voteResult({ counts: null }) }))
  ok('RollEntryOut', fx.rollEntry())
  ok('UnitBrief', fx.unitBrief(41, '花桥社区幸福里', 'compound', 4))
  ok('SeatList', { items: [fx.seat(11, '张委员'), fx.seat(12, '李委员')] })
  // 会抓错：票数必须是整数
  expect(validate(schema('ResultOut'), fx.voteResult({ counts: { 21: 'many' } })).join('\n')).toMatch(/integer/)
})

test('every topic action the server has is a step with a form and a name on the timeline', () => {
  const actions = Object.keys(doc.paths)
    .map((p) => /^\/api\/v1\/topics\/\{topic_id\}\/([a-z_]+)$/.exec(p))
    .filter(Boolean)
    .map((m) => m[1])
    .filter((a) => ['opinions', 'council', 'follow'].indexOf(a) < 0)
  expect(actions.length).toBe(10)
  actions.forEach((a) => {
    expect([a, topics.STEPS.some((s) => s.action === a)]).toEqual([a, true])
    expect([a, typeof topics.ACTION[a]]).toEqual([a, 'string'])
  })
})

test('list groups and council votes are the server\'s enums', () => {
  const group = doc.paths['/api/v1/topics'].get.parameters.find((p) => p.name === 'group')
  topics.GROUPS.forEach((g) => expect(group.schema.enum).toContain(g.key))
  const councilVotes = doc.components.schemas.SessionIn.properties.votes.additionalProperties.enum
  expect(topics.COUNCIL_CHOICES.map((c) => c.value).sort()).toEqual(councilVotes.slice().sort())
  expect(Object.keys(topics.METHOD).sort()).toEqual(doc.components.schemas.ResidentsIn.properties.method.enum.slice().sort())
})

test('every topic stage and the council sitting take photos (media), as the manage page sends them', () => {
  const stages = Object.keys(doc.paths)
    .map((p) => /^\/api\/v1\/topics\/\{topic_id\}\/([a-z_]+)$/.exec(p))
    .filter(Boolean)
    .map((m) => m[1])
    .filter((a) => ['opinions', 'follow'].indexOf(a) < 0)
  expect(stages).toContain('council')
  stages.forEach((a) => {
    const ref = doc.paths[`/api/v1/topics/{topic_id}/${a}`].post.requestBody.content['application/json'].schema.$ref
    const media = doc.components.schemas[ref.split('/').pop()].properties.media
    expect([a, media && media.maxItems]).toEqual([a, 9])
  })
})
