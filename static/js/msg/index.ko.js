// 공연 목록 (index.html), 한국어.
export default {
  "index.title": "예매 중인 공연 — usher",
  "index.skip": "공연 목록으로 건너뛰기",
  "index.heading": "공연",
  "index.sub": "공연을 고르면 대기실에 들어갑니다. 새로고침해도 순서는 그대로입니다.",
  "index.loading": "공연 목록을 불러오는 중…",
  "index.none": "아직 공연이 없습니다.",
  "index.on_sale": "지금 예매 중",
  "index.opens": "예매 오픈 {when}",
  "index.load_failed": "공연 목록을 불러오지 못했습니다: {why}",
};
