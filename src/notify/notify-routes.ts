import { z } from "zod";
import { type AnyRoute, defineRoute } from "../platform/route.js";
import {
  getNotification,
  listNotifications,
  NOTIFICATIONS_PAGE_DEFAULT,
  NotificationDetail,
  NotificationStatus,
  NotificationView,
  retryNotification,
} from "./notification-queries.js";

const IdParam = z.object({ id: z.string().min(1).max(100) });

/** The delivery API. `onRetry` wakes the delivery worker so a retried dead letter goes out at once. */
export function notifyRoutes(options: { onRetry?: () => void } = {}): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/notifications",
      tag: "notifications",
      summary: "Notifications with their delivery state, newest first, a page at a time",
      query: z.object({
        status: NotificationStatus.optional(),
        receiver: z.string().optional(),
        after: z.string().optional().describe("The `next` of the previous page."),
        limit: z.coerce.number().int().min(1).max(1000).default(NOTIFICATIONS_PAGE_DEFAULT),
      }),
      response: z.object({
        notifications: z.array(NotificationView),
        next: z.string().nullable().describe("Pass as `after` for the next page; null on the last page."),
      }),
      handler: ({ ctx, query }) => listNotifications({ ctx, input: query }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/notifications/:id",
      tag: "notifications",
      summary: "One notification with every delivery attempt",
      params: IdParam,
      response: NotificationDetail,
      handler: ({ ctx, params }) => getNotification({ ctx, id: params.id }),
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/notifications/:id/retry",
      tag: "notifications",
      summary: "Send a dead-lettered notification again",
      params: IdParam,
      response: NotificationView,
      handler: async ({ ctx, params }) => {
        const view = await retryNotification({ ctx, id: params.id });
        options.onRetry?.();
        return view;
      },
    }),
  ];
}
