// The client side of membership over federation.

export {
  RemoteMembership,
  type MembershipClient,
  type RemoteInviteRequest,
  type RemoteMembershipDeps,
  type RemoteMembershipRequest,
  type RemoteMembershipRooms,
} from './remote-membership.ts';
