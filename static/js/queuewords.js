// The waiting room's words: each state's title and explanation, and what a close that
// must not be retried means for the buyer (docs/protocol.md, close codes 4500-4999).

/** Each state of the page: [title, explanation]. */
export const STATES = {
  connecting: ["Connecting to the waiting room…", "This takes a moment."],
  pre_queue: ["The sale has not opened yet",
    "You are in the pre-queue. When the sale opens, everyone in it is put in a random order, " +
    "ahead of later arrivals: arriving earlier or refreshing gives no advantage."],
  open: ["You are in line",
    "Keep this page open. When your turn comes, you are taken to the seat map."],
  paused: ["Admission is paused",
    "The organiser has paused admission for a moment. You keep your place, and the line " +
    "moves again as soon as admission resumes."],
  sold_out: ["Sold out",
    "Every ticket has been sold, so nobody more is being let in. You keep your place in " +
    "case tickets come back."],
  unavailable: ["The line is briefly unavailable",
    "You keep your place: stay on this page. Your position updates again as soon as the " +
    "line is back."],
  ended: ["The sale has ended",
    "The organiser has ended the sale, so nobody more is being let in from the line."],
  admitted: ["It's your turn!", "Taking you to the seat map…"],
  left: ["You left the line", "Your place was given up. You can join again at the back of the line."],
  gone: ["You are no longer in line",
    "You left the line in another tab or window, or were away for longer than the grace " +
    "period. You can join again at the back of the line."],
  stopped: ["The waiting room cannot continue",
    "The message above says why. Pick an event from the list, or try again later."],
};

/** Words for a close that must not be retried as is. */
export function fatalWords(code, said) {
  switch (code) {
    case 4500:
      return "There is no such event. Check the link, or pick an event from the list.";
    case 4501:
      return `Your saved place could not be used (${said}). You can join again as a new buyer, at the back of the line.`;
    case 4502:
      return "The organiser has removed you from this sale. If you think this is a mistake, contact the organiser.";
    case 4506:
      return "The sale has ended: the organiser closed it, and nobody more is being let in.";
    default:
      return `The waiting room closed the connection: ${said || `code ${code}`}.`;
  }
}
