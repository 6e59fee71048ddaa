// Live events, the whole page: every event of the cameras the user may see as it is
// stored, alerts highlighted, newest on top (the same feed as beside the wall).

import { EventFeed } from "../events.js";
import { t } from "../i18n.js";

export class EventsView {
  constructor({ connection, user, role }) {
    this.connection = connection;
    this.user = user;
    this.role = role;
    this.names = new Map();
  }

  enter(main) {
    this.feed = new EventFeed(this.connection, {
      user: this.user,
      role: this.role,
      names: this.names,
      limit: 200,
      title: t("events.title"),
    });
    this.feed.element.classList.add("wide");
    main.replaceChildren(this.feed.element);
    this.connection.subscribe("status", null, {}, {
      cameras: (message) => {
        for (const camera of message.cameras || []) this.names.set(camera.id, camera.name);
        this.feed.renameCameras();
      },
    });
    this.feed.start();
  }

  leave() {
    this.connection.unsubscribe("status", null);
    if (this.feed) this.feed.stop();
  }
}
