// The event list (index.html), in English.
export default {
  "index.title": "Events on sale — usher",
  "index.skip": "Skip to the events",
  "index.heading": "Events",
  "index.sub": "Pick an event to join its waiting room. You keep your place if you refresh.",
  "index.loading": "Loading events…",
  "index.none": "No events yet.",
  "index.on_sale": "On sale now",
  "index.opens": "Sale opens {when}",
  "index.load_failed": "Could not load the events: {why}",
};
