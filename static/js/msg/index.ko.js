// 공연 목록 (index.html), 한국어.
export default {
  "index.title": "예매 중인 공연 — usher",
  "index.skip": "공연 목록으로 건너뛰기",
  "index.heading": "공연 목록",
  "index.sub": "공연을 선택하면 접속 대기열로 이동합니다. 새로고침해도 대기 순번은 유지됩니다.",
  "index.loading": "공연 목록을 불러오는 중입니다…",
  "index.none": "아직 등록된 공연이 없습니다.",
  "index.on_sale": "예매 중",
  "index.opens": "티켓 오픈 {when}",
  "index.load_failed": "공연 목록을 불러오지 못했습니다: {why}",
};
