// A seeded synthetic shop's customer-service chats. Agents answer from fixed
// templates filled with what the customer asked about (size from height and
// weight, delivery days from the city, material from the product), so a small
// model has something learnable and validation loss can fall. The export mess
// real shop systems produce is added on top: notices, placeholders, messages
// split over rows, padding, duplicates, blank rows.

export interface ShopRow {
  readonly session: string;
  readonly customer: string;
  readonly time: Date;
  readonly sender: '客户' | '客服' | '系统';
  readonly content: string;
}

/** mulberry32: tiny, fast, and the same sequence on every machine. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Product {
  readonly name: string;
  readonly material: string;
  readonly sized: boolean;
  readonly defect: string;
}

const PRODUCTS: readonly Product[] = [
  { name: '纯棉圆领T恤', material: '100%新疆长绒棉', sized: true, defect: '领口开线了' },
  { name: '加绒直筒牛仔裤', material: '棉93%氨纶7%，内里是加厚绒', sized: true, defect: '拉链拉不上' },
  { name: '连帽羽绒服', material: '90%白鸭绒填充，面料防泼水', sized: true, defect: '有点跑绒' },
  { name: '轻便跑步鞋', material: '飞织鞋面加EVA大底', sized: true, defect: '鞋底开胶了' },
  { name: '羊毛针织开衫', material: '含羊毛50%的混纺纱', sized: true, defect: '起球很严重' },
  { name: '不锈钢保温杯', material: '食品级316不锈钢内胆', sized: false, defect: '杯盖漏水' },
  { name: '无线蓝牙耳机', material: 'ABS外壳，蓝牙5.3芯片', sized: false, defect: '右耳没有声音' },
  { name: '智能电饭煲', material: '加厚球釜内胆，不粘涂层', sized: false, defect: '按键没反应' },
  { name: '保湿面霜', material: '含玻尿酸和神经酰胺，无酒精配方', sized: false, defect: '瓶子是破的' },
  { name: '双肩电脑包', material: '防泼水牛津布，可放15.6寸电脑', sized: false, defect: '背带断了' },
];

const CITIES: readonly (readonly [string, number])[] = [
  ['上海', 1], ['杭州', 1], ['南京', 1], ['北京', 2], ['广州', 2], ['深圳', 2], ['成都', 3], ['武汉', 2], ['西安', 3], ['哈尔滨', 4], ['昆明', 4], ['乌鲁木齐', 6],
];

const OPENERS = ['你好', '在吗', '您好', '亲 在吗', '客服你好', ''];
const GREETINGS = ['您好，欢迎光临小店，请问有什么可以帮您？', '亲，您好，我是客服小美，很高兴为您服务~', '在的亲，请问有什么可以帮到您？'];
const THANKS = ['好的 谢谢', '明白了，谢谢', '好的', '谢谢客服', '知道了'];
const CLOSINGS = ['不客气哦亲，还有其他问题随时联系我们，祝您生活愉快~', '不客气，感谢您对小店的支持，有问题随时找我哦~'];
const NOTICES = ['客户已接入会话', '会话已转接至人工客服', '客户超时未回复，会话即将结束'];
const PLACEHOLDERS = ['[图片]', '[表情]', '[表情][表情]', '[动画表情]', '[语音]'];

type Turn = readonly ['user' | 'assistant', string];
type Pick = <T>(items: readonly T[]) => T;

function sizeFor(height: number, weight: number): string {
  const score = (height - 150) / 5 + (weight - 80) / 15;
  return ['S', 'M', 'L', 'XL', 'XXL'][Math.max(0, Math.min(4, Math.floor(score / 3)))]!;
}

/** The topic dialogues: every agent reply follows from the question and its slots. */
const TOPICS: readonly ((pick: Pick, rand: () => number, product: Product) => Turn[])[] = [
  (pick, rand, product) => {
    const height = 150 + Math.floor(rand() * 40);
    const weight = 80 + Math.floor(rand() * 100);
    const size = sizeFor(height, weight);
    const wear = product.sized ? product.name : '纯棉圆领T恤';
    return [
      ['user', `${wear}我身高${height}，体重${weight}斤，穿什么码？`],
      ['assistant', `亲，身高${height}cm、体重${weight}斤建议您选${size}码哦，${wear}是标准尺码。`],
      ['user', pick(['偏大还是偏小', '会不会小', '宽松吗'])],
      ['assistant', '我们是标准尺码，按平时的尺码选就可以，喜欢宽松可以拍大一码哦~'],
    ];
  },
  (pick, rand, product) => {
    const [city, days] = pick(CITIES);
    return [
      ['user', pick([`${product.name}今天能发货吗`, `${product.name}什么时候发货`])],
      ['assistant', '亲，下午4点前付款的订单当天发货，4点以后的第二天发出哦。'],
      ['user', `发到${city}要几天`],
      ['assistant', `发${city}一般${days}天左右送达，默认中通快递，可以在订单详情里查看物流哦。`],
      ...(rand() < 0.4 ? ([['user', '可以发顺丰吗'], ['assistant', '可以的亲，顺丰需要补12元运费差价，下单时备注顺丰就可以了。']] as Turn[]) : []),
    ];
  },
  (pick, _rand, product) => [
    ['user', pick([`${product.name}不合适可以退吗`, `我想退货，${product.name}不太喜欢`, `${product.name}能换货吗`])],
    ['assistant', '支持7天无理由退换的亲，商品不影响二次销售就可以，在订单页面点击“申请售后”提交就行。'],
    ['user', pick(['运费谁出', '退货运费怎么算'])],
    ['assistant', '质量问题来回运费由我们承担；非质量问题寄回的运费需要您承担，订单有运费险的话会自动理赔哦。'],
    ['user', pick(['多久能退款', '钱什么时候退回来'])],
    ['assistant', '仓库签收后48小时内处理退款，原路退回到您的支付账户哦。'],
  ],
  (pick, rand, _product) => {
    const special = rand() < 0.3;
    return special
      ? [
          ['user', '可以开增值税专用发票吗'],
          ['assistant', '可以的亲，麻烦您提供公司名称、税号、开户行及账号、注册地址和电话，我们3个工作日内寄出纸质专票。'],
          ['user', pick(['好的 我整理一下发给你', '稍等我找一下'])],
          ['assistant', '好的，您整理好直接发在这里就可以哦~'],
        ]
      : [
          ['user', pick(['可以开发票吗', '发票怎么开', '能开电子发票吗'])],
          ['assistant', '可以的亲，下单时选择电子发票并填写抬头和税号，确认收货后1-3个工作日内发到您的邮箱。'],
          ['user', pick(['已经下单了还能开吗', '下单的时候忘了填怎么办'])],
          ['assistant', '可以的，在订单详情点击“申请开票”补开就可以，电子发票和纸质发票效力一样哦。'],
        ];
  },
  (pick, _rand, product) => [
    ['user', `收到的${product.name}${product.defect}`],
    ['assistant', `非常抱歉给您带来不好的体验，麻烦您拍一下${product.name}有问题的地方发给我看看。`],
    ['user', pick(PLACEHOLDERS.slice(0, 1))],
    ['user', pick(['就是这样', '你看', '这个'])],
    ['assistant', `已经看到了，确实是${product.defect.replace(/了$/, '')}的问题，给您两个方案：补发一件新的，或者退款，您看哪种可以？`],
    ['user', pick(['补发吧', '那退款吧'])],
    ['assistant', '好的，已经为您登记，处理结果会短信通知您，旧的商品不用寄回了哦。'],
  ],
  (pick, rand, product) => {
    const off = pick([[199, 20], [299, 40], [399, 60]] as const);
    return [
      ['user', pick([`${product.name}是什么材质的`, `${product.name}的材质怎么样`])],
      ['assistant', `亲，${product.name}是${product.material}的哦，品质有保障。`],
      ...(rand() < 0.6
        ? ([['user', pick(['现在有优惠吗', '有没有优惠券', '能便宜点吗'])], ['assistant', `现在店铺满${off[0]}减${off[1]}，领券后下单自动抵扣哦~`]] as Turn[])
        : []),
    ];
  },
];

/** Chat rows session by session, with the export's mess; endless, so callers take as many as they need. */
export function* shopRows(seed: number): Generator<ShopRow | null> {
  const rand = random(seed);
  const pick: Pick = (items) => items[Math.floor(rand() * items.length)]!;
  const hex = (): string => Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
  let clock = Date.UTC(2023, 10, 1, 9, 0, 0);
  for (;;) {
    const session = hex();
    const customer = `USER_${100000 + Math.floor(rand() * 900000)}`;
    const product = pick(PRODUCTS);
    const turns: Turn[] = [];
    const opener = pick(OPENERS);
    if (opener) turns.push(['user', opener], ['assistant', pick(GREETINGS)]);
    const topic = pick(TOPICS);
    turns.push(...topic(pick, rand, product));
    if (rand() < 0.35) turns.push(...pick(TOPICS.filter((other) => other !== topic))(pick, rand, product));
    if (rand() < 0.8) turns.push(['user', pick(THANKS)], ['assistant', pick(CLOSINGS)]);
    clock += Math.floor(rand() * 3_600_000);
    let time = clock;
    const at = (sender: ShopRow['sender'], content: string): ShopRow => {
      time += 5_000 + Math.floor(rand() * 90_000);
      return { session, customer, time: new Date(time), sender, content };
    };
    if (rand() < 0.3) yield at('系统', pick(NOTICES));
    for (const [role, text] of turns) {
      const sender = role === 'user' ? '客户' : '客服';
      const parts = rand() < 0.15 ? splitMessage(text) : [text];
      for (const part of parts) {
        const row = at(sender, noisy(part, rand, pick));
        yield row;
        if (rand() < 0.01) yield row;
      }
      if (role === 'user' && rand() < 0.05) yield at('客户', pick(PLACEHOLDERS));
      if (rand() < 0.003) yield null;
    }
  }
}

/** A message sent as two chat messages: split at the first comma. */
function splitMessage(text: string): string[] {
  const comma = text.search(/[，,]/);
  return comma > 0 && comma < text.length - 1 ? [text.slice(0, comma), text.slice(comma + 1)] : [text];
}

function noisy(text: string, rand: () => number, pick: Pick): string {
  const r = rand();
  if (r < 0.03) return `${text} [表情]`;
  if (r < 0.06) return pick([` ${text}`, `${text}  `, `\u3000${text}`, `${text}\n`]);
  return text;
}
