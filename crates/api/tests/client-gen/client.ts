// A small client on the types openapi-typescript generates from /openapi.json (schema.d.ts,
// written next to this file by the test). It is only type-checked: if the document loses an
// operation, a field or a status used here, `tsc --noEmit` fails.
import createClient from "openapi-fetch";
import type { components, operations, paths, webhooks } from "./schema";

type Space = components["schemas"]["SpaceView"];
type Booking = components["schemas"]["BookingView"];
type BusinessHours = components["schemas"]["BusinessHours"];

const client = createClient<paths>({
  baseUrl: "http://127.0.0.1:8080",
  headers: { Authorization: "Bearer zs_example" },
});

const hours: BusinessHours = {
  mon: [{ open: "08:00", close: "18:00" }],
  sat: [],
};

export async function createRoom(): Promise<Space> {
  const { data, error } = await client.POST("/v1/spaces", {
    body: { id: "room-1", name: "Room 1", timezone: "Europe/Berlin", businessHours: hours, cleaning: "PT5M" },
  });
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  const space: Space = data;
  const room: "free" | "upcoming" | "occupied" | "cleaning" = space.state.room;
  console.log(room, space.state.sequence.toFixed(0));
  return space;
}

export async function book(spaceId: string, start: string, end: string): Promise<Booking> {
  const { data, error, response } = await client.POST("/v1/bookings", {
    params: { header: { "Idempotency-Key": `book-${spaceId}-${start}` } },
    body: { spaceId, start, end, title: "Stand-up" },
  });
  if (error) throw new Error(`${response.status} ${error.error.code}`);
  const bookingId: string = data.bookingId;
  console.log(bookingId, data.status satisfies components["schemas"]["BookingStatus"]);
  return data;
}

export async function lifecycle(id: string): Promise<string | null | undefined> {
  await client.POST("/v1/bookings/{id}/check-in", { params: { path: { id } } });
  const out = await client.POST("/v1/bookings/{id}/check-out", { params: { path: { id } } });
  const list = await client.GET("/v1/bookings", { params: { query: { spaceId: "room-1", limit: 10 } } });
  const history = await client.GET("/v1/spaces/{id}/history", { params: { path: { id: "room-1" } } });
  const events: components["schemas"]["EventName"][] = (history.data?.items ?? []).map((t) => t.event);
  console.log(list.data?.items.length, events);
  return out.data?.endedAt;
}

// The dashboard's utilisation charts: the no-show rate over a range, and one space's hours.
export async function noShowRate(from: string, to: string): Promise<number> {
  const { data, error } = await client.GET("/v1/utilisation", { params: { query: { from, to } } });
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  const one = await client.GET("/v1/spaces/{id}/utilisation", {
    params: { path: { id: "room-1" }, query: { from, to } },
  });
  const room: components["schemas"]["SpaceUtilisation"] | undefined = one.data?.spaces[0];
  console.log(room?.spaceId, room?.occupiedSeconds.toFixed(3), data.total.releasedSeconds);
  return data.total.bookings === 0 ? 0 : data.total.noShows / data.total.bookings;
}

export async function subscribe(url: string): Promise<string | undefined> {
  const { data } = await client.POST("/v1/webhooks", {
    body: { url, events: ["booking.created", "room.state_changed"] },
  });
  return data?.secret ?? undefined;
}

// A receiver's view: the documented webhook bodies, told apart by `type`.
type Incoming =
  | components["schemas"]["BookingWebhook"]
  | components["schemas"]["SpaceStateChangedWebhook"]
  | components["schemas"]["RoomStateChangedWebhook"];

export function onWebhook(body: Incoming): string {
  if ("start" in body.data) return `${body.type} ${body.data.bookingId} ${body.data.start}`;
  return `${body.type} ${body.data.spaceId}: ${body.data.from} -> ${body.data.to}`;
}

// Operation ids are what generators name methods after.
type Created = operations["createBooking"]["responses"][201]["content"]["application/json"];
export const sample: Pick<Created, "id" | "bookingId"> = { id: "b1", bookingId: "b1" };
type Checked = webhooks["booking.checked_in"]["post"]["requestBody"];
export type { Checked };
