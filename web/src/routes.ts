// Every page's address, in one place: links, the back button and a reload all land where the
// manager was. The notification mails link to a conversation the same way (/conversations/<id>).

export const paths = {
  inbox: "/",
  conversation: (id: number) => `/conversations/${id}`,
  conversationPattern: "/conversations/:id",
  contacts: "/contacts",
  contact: (id: number) => `/contacts/${id}`,
  contactPattern: "/contacts/:id",
  deals: "/deals",
  team: "/team",
  account: "/account",
} as const;
