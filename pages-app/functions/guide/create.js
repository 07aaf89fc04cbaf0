export const onRequest = async (context) => {
  // This payload could be anything from within your app or from your frontend
  let payload = { hello: "world" };
  return context.env.WORKFLOWS_SERVICE.createInstance(payload);
};
