// 큰 공연장의 구역 배치도와 구역별 좌석 보기 (venue.js, overview.js), 한국어.
export default {
  "seatmap.stage": "무대",
  "seatmap.plan": "공연장 구역",
  "seatmap.pick": "좌석을 보려면 구역을 선택하세요. 구역에 표시된 숫자는 잔여석 수입니다.",
  "seatmap.section": "{name}구역",
  "seatmap.block": "{name}구역, 잔여석 {n}석",
  "seatmap.block_sold_out": "{name}구역, 매진",
  "seatmap.sold_out": "매진",
  "seatmap.grade_count": "{grade}석 {n}",
  "seatmap.grades": "등급별 잔여석",
  "seatmap.grade_line": "{grade}석 · {price}: 잔여 {n}석",
  "seatmap.total": "전체 잔여석 {n}석",
  "seatmap.back": "전체 구역 보기",
  "seatmap.zoom_left": "잔여석 {n}석: {grades}",
  "seatmap.zoom_hint": "좌석 줄이 화면보다 길면 옆으로 밀어서 보세요. 열 번호는 왼쪽에 계속 표시됩니다.",
  "seatmap.showing": "고른 좌석이 있는 {name}구역을 표시합니다.",
};
