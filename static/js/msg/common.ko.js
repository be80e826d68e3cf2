// 모든 페이지가 쓰는 말 (한국어). common.en.js와 키가 같습니다.
export default {
  "common.language": "언어",
  "common.site_nav": "사이트",
  "common.all_events": "전체 공연",
  "common.operator": "운영자",
  "common.none": "–",
  "common.retry_in": "({secs}초 후)",
  "common.retry_now": "(지금)",
  "common.duration_s": "{s}초",
  "common.duration_ms": "{m}분 {s}초",
  "common.duration_hm": "{h}시간 {m}분",
  "common.won": "{n}원",
};
