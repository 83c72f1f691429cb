// The service types of OSC and OSCQuery, in a file of their own: the published declarations name
// them, and mdns.ts's would lead a user's compiler to multicast-dns, whose types it may not have.

/** The OSC and OSCQuery service types. */
export type ServiceType = '_osc._udp' | '_osc._tcp' | '_oscjson._tcp';
/** Every service type `browse()` looks for by default. */
export const SERVICE_TYPES: readonly ServiceType[] = ['_osc._udp', '_osc._tcp', '_oscjson._tcp'];
