# playloop for people with Docker (docker-compose.yml). Not used by CI or the local stack.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg chromium && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV PLAYLOOP_DATA_DIR=/data
VOLUME ["/data"]
ENTRYPOINT ["node", "bin/playloop.mjs"]
CMD ["run"]
